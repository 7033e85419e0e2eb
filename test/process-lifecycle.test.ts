import { request, Agent } from 'node:http';
import { isRunning, killLeftovers, startServiceProcess, waitFor, type ServiceProcess } from './support/service-process';

/** The life of `npm start` as a process: graceful SIGTERM, and no private redis-server left however it ends. */
describe('npm start process lifecycle', () => {
  let service: ServiceProcess | undefined;
  afterEach(() => killLeftovers(service?.launcher.pid, service?.serverPid, service?.redisPid));

  const gone = (...pids: (number | undefined)[]) =>
    waitFor(() => pids.every((pid) => pid !== undefined && !isRunning(pid)), 15_000, `processes ${pids.join(', ')} to exit`);

  /**
   * A POST /cache that is in flight from the server's 100 Continue (it has parsed the headers and runs the
   * request) until `finish` sends the body.
   */
  function slowWrite(url: string, key: string) {
    const body = JSON.stringify({ key, value: 'in flight' });
    const { hostname, port } = new URL(url);
    let finish!: () => void;
    let started!: Promise<void>;
    const answered = new Promise<number>((resolve, reject) => {
      const headers = { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' };
      const req = request({ hostname, port, path: '/cache', method: 'POST', agent: false, headers }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      });
      req.on('error', reject);
      started = new Promise<void>((resolve) => req.once('continue', () => resolve()));
      req.flushHeaders();
      finish = () => req.end(body);
    });
    answered.catch(() => undefined);
    return { answered, started, finish: () => finish() };
  }

  test('SIGTERM lets requests in flight finish, closes idle connections, and stops the private redis-server', async () => {
    service = await startServiceProcess({ env: { SHUTDOWN_GRACE_MS: '20000' } });
    const { url, serverPid, redisPid } = service;
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    // An idle kept-alive connection: the server must close it rather than wait for it.
    const idle = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const req = request(`${url}/cache/stats`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(req.socket!));
      });
      req.on('error', reject).end();
    });
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    const inFlight = Array.from({ length: 8 }, (_, i) => slowWrite(url, `inflight-${i}`));
    await Promise.all(inFlight.map((w) => w.started));
    process.kill(serverPid, 'SIGTERM');
    await waitFor(() => /SIGTERM received/.test(service!.output()), 10_000, 'the server to see SIGTERM');
    await idleClosed;
    inFlight.forEach((w) => w.finish());
    expect(await Promise.all(inFlight.map((w) => w.answered))).toEqual(Array(8).fill(201));
    await service.exited;
    expect(service.launcher.exitCode).toBe(0);
    await gone(serverPid, redisPid);
    agent.destroy();
  });

  test('SIGTERM to the npm process stops the server and its redis-server', async () => {
    service = await startServiceProcess({ viaNpm: true });
    const { launcher, serverPid, redisPid } = service;
    launcher.kill('SIGTERM');
    await gone(launcher.pid!, serverPid, redisPid);
  });

  test('SIGKILL of the server takes its private redis-server down with it', async () => {
    service = await startServiceProcess();
    process.kill(service.serverPid, 'SIGKILL');
    await gone(service.serverPid, service.redisPid);
  });

  test('SIGKILL of the npm process: the orphaned server notices and stops with its redis-server', async () => {
    service = await startServiceProcess({ viaNpm: true });
    const { launcher, serverPid, redisPid } = service;
    launcher.kill('SIGKILL');
    await gone(launcher.pid!, serverPid, redisPid);
  });
});
