import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';

/** A free TCP port on loopback, as the OS hands one out. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisProcessOptions {
  /** e.g. '256mb'; unset means no limit. */
  maxmemory?: string;
  maxmemoryPolicy?: string;
  /** Further `redis-server` arguments, e.g. ['--cluster-enabled', 'yes']. */
  args?: string[];
  port?: number;
  /** Cluster mode's bus: `--cluster-port` on a free port of its own, picked with the client port. */
  clusterBus?: boolean;
  /** redis-server binary (default: the one on PATH). */
  binary?: string;
}

let setprivWorks: boolean | undefined;
/**
 * The command that runs redis-server so that the kernel kills it when this process ends, however it ends (a
 * crash or SIGKILL included, when no exit handler runs): Linux's parent-death signal, set by util-linux `setpriv`
 * before it execs redis-server (so the child's PID is redis-server's own). Elsewhere, redis-server directly.
 */
function dieWithParent(binary: string, args: string[]): [string, string[]] {
  setprivWorks ??= process.platform === 'linux' && spawnSync('setpriv', ['--pdeathsig', 'KILL', 'true']).status === 0;
  return setprivWorks ? ['setpriv', ['--pdeathsig', 'KILL', binary, ...args]] : [binary, args];
}

export interface RedisProcess {
  port: number;
  url: string;
  dir: string;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL) and removes its working folder. */
  stop(): Promise<void>;
  /** Kills it hard, as a crash would, keeping the folder (for fault tests). */
  kill(): void;
  /** Starts it again on the same port with the same arguments (after kill), e.g. "Redis is back". */
  restart(): Promise<void>;
}

async function waitForPing(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`redis-server on port ${port} exited with code ${child.exitCode}`);
    const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      await probe.connect();
      await probe.ping();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      probe.disconnect();
    }
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
}

/**
 * Starts a private `redis-server` on a free loopback port, keeping nothing on disk. Used by `npm start` when no
 * REDIS_URL is given, and by the tests, which never touch the shared Redis on 6379. It never outlives this
 * process (see dieWithParent).
 */
/** Launches of a redis-server whose freely picked port was taken before it could bind it. */
const PORT_ATTEMPTS = 3;

export async function startRedisProcess(options: RedisProcessOptions = {}): Promise<RedisProcess> {
  let port = options.port ?? (await freePort());
  let busPort = options.clusterBus ? await freePort() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'skycache-redis-'));
  const args = () => {
    const list = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
    list.push('--logfile', join(dir, 'redis.log'));
    if (busPort !== undefined) list.push('--cluster-port', String(busPort));
    if (options.maxmemory) list.push('--maxmemory', options.maxmemory);
    if (options.maxmemoryPolicy) list.push('--maxmemory-policy', options.maxmemoryPolicy);
    list.push(...(options.args ?? []));
    return list;
  };
  const launch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    const [command, commandArgs] = dieWithParent(options.binary ?? 'redis-server', args());
    const child = spawn(command, commandArgs, { stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) =>
        reject(new Error(`could not start redis-server (${e.message}); install it, e.g. apt-get install redis-server`)),
      );
    });
    try {
      await waitForPing(port, child, 10_000);
    } catch (e) {
      child.kill('SIGKILL');
      throw e;
    }
    const exited = new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    return { child, exited };
  };
  const firstLaunch = async (): Promise<{ child: ChildProcess; exited: Promise<void> }> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch();
      } catch (e) {
        // A port found free may be taken by another process (a parallel test worker) before redis-server binds it;
        // redis-server then exits at once. Ports this function picked are picked again, a bounded number of times.
        const portTaken = options.port === undefined && /exited with code/.test((e as Error).message);
        if (!portTaken || attempt === PORT_ATTEMPTS) {
          rmSync(dir, { recursive: true, force: true });
          throw e;
        }
        port = await freePort();
        if (busPort !== undefined) busPort = await freePort();
      }
    }
  };
  let current = await firstLaunch();
  const running = () => current.child.exitCode === null && current.child.signalCode === null;
  const handle: RedisProcess = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    process: current.child,
    kill: () => {
      current.child.kill('SIGKILL');
    },
    restart: async () => {
      if (running()) {
        current.child.kill('SIGKILL');
        await current.exited;
      }
      current = await launch();
      handle.process = current.child;
    },
    stop: async () => {
      if (running()) {
        const { child, exited } = current;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
