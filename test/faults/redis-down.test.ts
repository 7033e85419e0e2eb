import { startRedisProcess, type RedisProcess } from '../../lambdas/local/redis-process';
import { startLocalServer, type LocalServer } from '../../lambdas/local/server';
import { restoreServiceEnv, setServiceEnv } from '../support/env';
import { isOk, sleep, startLoad, summarize, until } from '../support/load';

const TIMEOUT_MS = 1000;
// Scheduling slack on a busy 2-core CI machine; a hung request would take far longer (the load aborts it at +1.5 s).
const HANG_MARGIN_MS = 800;
let redis: RedisProcess;
let server: LocalServer;

beforeAll(async () => {
  redis = await startRedisProcess();
  await setServiceEnv({ REDIS_URL: redis.url, REDIS_CLUSTER_NODES: undefined, REDIS_TIMEOUT_MS: String(TIMEOUT_MS) });
  server = await startLocalServer();
});
afterAll(async () => {
  await server?.close();
  await restoreServiceEnv();
  await redis?.stop();
});

test('Redis entirely down: every request is a 503 within the timeout; Redis back: recovery without a restart', async () => {
  const load = startLoad(
    server.url,
    (w, i) =>
      i % 2
        ? { op: 'get', key: `d:${w}`, method: 'GET', path: `/cache/d:${w}` }
        : { op: 'set', key: `d:${w}`, method: 'POST', path: '/cache', body: { key: `d:${w}`, value: i } },
    { workers: 3, hangAfterMs: TIMEOUT_MS + 1500, pauseMs: 5 },
  );
  await sleep(300);
  const downAt = Date.now();
  redis.kill();
  await sleep(4000);
  const backAt = Date.now();
  await redis.restart();
  const recoveredAt = await until('a successful write after Redis is back', async () => {
    const res = await fetch(`${server.url}/cache`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'probe', value: 1 }),
    });
    return res.status < 300;
  }, 10_000);
  await sleep(1000);
  const samples = await load.stop();

  summarize('Redis down (kill to restart)', samples, downAt + 50, backAt);
  summarize('Redis down (whole run)', samples);
  console.log(`[fault] Redis down: recovered ${recoveredAt - backAt} ms after the restart`);
  const whileDown = samples.filter((s) => s.start >= downAt + 50 && s.end <= backAt);
  expect(whileDown.length).toBeGreaterThanOrEqual(6);
  expect(whileDown.every((s) => s.status === 503)).toBe(true);
  // No request waited past the timeout (plus scheduling margin).
  expect(samples.every((s) => s.status !== 'hung' && s.end - s.start < TIMEOUT_MS + HANG_MARGIN_MS)).toBe(true);
  const failures = samples.filter((s) => !isOk(s));
  expect(failures.every((s) => s.status === 503)).toBe(true);
  const body = whileDown[0].body as { error: { code: string } };
  expect(body.error.code).toBe('UNAVAILABLE');
  expect(recoveredAt - backAt).toBeLessThan(10_000);
  const afterRecovery = samples.filter((s) => s.start > recoveredAt);
  expect(afterRecovery.length).toBeGreaterThan(5);
  expect(afterRecovery.every(isOk)).toBe(true);
});

test('a 503 carries Retry-After', async () => {
  redis.kill();
  await sleep(100);
  const res = await fetch(`${server.url}/cache/x`);
  expect(res.status).toBe(503);
  expect(res.headers.get('retry-after')).toBe('1');
  await redis.restart();
});
