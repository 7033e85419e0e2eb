import { isRunning, killLeftovers, startServiceProcess, waitFor, type ServiceProcess } from './support/service-process';

/**
 * A freshly started `npm start` whose very first requests arrive together, mixing every route family: every
 * script must be on the Redis client before the first request (an auto-pipeline opened in the same tick would
 * lack a script defined later), and no request may take the process down.
 */
type Call = [method: string, path: string, body?: unknown];

function mix(round: number): Call[] {
  const k = (n: number) => `k${round}-${n}`;
  const families: Call[] = [
    ['POST', '/cache/batch/get', { keys: [k(1), k(2), k(3)] }],
    ['POST', '/cache', { key: k(1), value: { n: 1 }, tags: ['t'] }],
    ['POST', '/cache/batch/delete', { keys: [k(2), k(4)] }],
    ['POST', '/cache/invalidate', { keys: [k(3), k(5)] }],
    ['POST', '/cache/batch/set', { items: [{ key: k(6), value: 6 }, { key: k(7), value: 7, tags: ['t'] }] }],
    ['GET', `/lists/${k(8)}/size`],
    ['POST', `/lists/${k(9)}/push`, { values: [1, 2] }],
    ['GET', `/cache/${k(1)}`],
    ['DELETE', `/cache/${k(6)}`],
    ['POST', '/cache/invalidate', { tags: ['t'] }],
    ['POST', '/cache/invalidate', { prefix: `k${round}-9` }],
    ['POST', `/sets/${k(10)}/add`, { members: ['a'] }],
    ['GET', `/sets/${k(10)}/size`],
    ['POST', `/hashes/${k(11)}/set`, { fields: { a: 1 } }],
    ['POST', `/hashes/${k(11)}/increment`, { field: 'n', by: 2 }],
    ['POST', `/zsets/${k(12)}/add`, { members: [{ member: 'm', score: 1 }] }],
    ['GET', `/zsets/${k(12)}/count?min=0&max=2`],
    ['POST', `/counters/${k(13)}`, { by: 1 }],
    ['GET', `/cache/${k(1)}/ttl`],
    ['PUT', `/cache/${k(7)}/ttl`, { ttl: 60 }],
    ['POST', `/lists/${k(9)}/pop`, { count: 1 }],
    ['GET', '/cache/stats'],
  ];
  // 32 requests: every family once, then again from a different starting point.
  return Array.from({ length: 32 }, (_, i) => families[(i * (round + 1)) % families.length]);
}

describe('a fresh npm start under a burst of 32 simultaneous first requests', () => {
  let service: ServiceProcess | undefined;
  const started: number[] = [];
  afterAll(() => killLeftovers(...started));

  test('answers every one without a 500 and stays up, 10 fresh processes in a row, leaving no process behind', async () => {
    for (let round = 0; round < 10; round++) {
      // One worker: the whole burst reaches one fresh process (and each round starts faster).
      service = await startServiceProcess({ env: { WORKERS: '1' } });
      const { url, serverPid } = service;
      const redisPid = service.redisPid!;
      started.push(serverPid, redisPid);
      const answers = await Promise.all(
        mix(round).map(async ([method, path, body]) => {
          const res = await fetch(url + path, {
            method,
            headers: body === undefined ? {} : { 'content-type': 'application/json' },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { call: `${method} ${path}`, status: res.status, body: await res.text() };
        }),
      );
      const failed = answers.filter((a) => a.status >= 500);
      expect({ round, failed, log: failed.length ? service.output() : '' }).toEqual({ round, failed: [], log: '' });
      expect(isRunning(serverPid)).toBe(true);
      expect((await fetch(`${url}/cache/stats`)).status).toBe(200);
      service.launcher.kill('SIGTERM');
      await service.exited;
      await waitFor(() => !isRunning(serverPid) && !isRunning(redisPid), 10_000, 'the server and its redis-server to exit');
      expect(service.output()).not.toMatch(/unhandled|uncaught/);
    }
  }, 300_000);
});
