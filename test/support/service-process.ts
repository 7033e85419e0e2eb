import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
/** The production server's entry (the container runs its bundle); `npm start` runs lambdas/local/main.ts. */
export const SERVER_ENTRY = 'lambdas/server/main.ts';

/** The service as a separate process: the launcher, the server's (primary's) and its private redis-server's PIDs, its output. */
export interface ServiceProcess {
  /** The process spawned: `npm` itself, or the server when started without npm. */
  launcher: ChildProcess;
  serverPid: number;
  /** The private redis-server's PID; undefined when the service was given a REDIS_URL. */
  redisPid?: number;
  url: string;
  port: number;
  output(): string;
  exited: Promise<void>;
}

/**
 * Starts the service as `npm start` does (`node --import tsx lambdas/local/main.ts`; with `viaNpm`, through npm
 * itself; with `entry`, another entry such as the production server's, or its bundle, an `.mjs` that plain `node`
 * runs as the container does) on a free port — with its private redis-server unless `env` names a REDIS_URL or
 * REDIS_CLUSTER_NODES — and resolves once it listens.
 */
export async function startServiceProcess(options: { viaNpm?: boolean; env?: Record<string, string>; entry?: string } = {}): Promise<ServiceProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ...options.env };
  if (!options.env?.REDIS_URL) delete env.REDIS_URL;
  if (!options.env?.REDIS_CLUSTER_NODES) delete env.REDIS_CLUSTER_NODES;
  const [command, args] = options.viaNpm
    ? ['npm', ['start', '--silent']]
    : options.entry?.endsWith('.mjs')
      ? [process.execPath, [options.entry]]
      : [process.execPath, ['--import', 'tsx', options.entry ?? 'lambdas/local/main.ts']];
  const launcher = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  launcher.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  launcher.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<void>((resolve) => launcher.once('exit', () => resolve()));
  await waitFor(() => /listening on \S+ \(pid \d+\)/.test(text) || launcher.exitCode !== null, 60_000, 'the service to listen');
  const listening = /listening on (\S+) \(pid (\d+)\)/.exec(text);
  const redis = /private redis-server at \S+ \(pid (\d+)\)/.exec(text);
  if (!listening || (!redis && !env.REDIS_URL && !env.REDIS_CLUSTER_NODES)) {
    launcher.kill('SIGKILL');
    throw new Error(`the service did not start:\n${text}`);
  }
  const url = listening[1];
  return {
    launcher,
    url,
    port: Number(new URL(url).port),
    serverPid: Number(listening[2]),
    redisPid: redis ? Number(redis[1]) : undefined,
    output: () => text,
    exited,
  };
}

/** Whether a process with this PID runs (a zombie, dead but not yet reaped, does not). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Polls `condition` until it holds; fails after `timeoutMs` naming what it waited for (and the last error). */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await condition()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Kills whatever of these PIDs still runs (a failed test must not leave processes behind). */
export function killLeftovers(...pids: (number | undefined)[]): void {
  for (const pid of pids) {
    if (pid && isRunning(pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json?: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request on a connection of its own (no pooling: each reaches whichever worker the primary picks). */
export function call(url: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = request(
      url + path,
      {
        method,
        agent: false,
        headers: { ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}), ...options.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // A hung request fails the test with a reason instead of running into the test's own time limit.
    req.setTimeout(15_000, () => req.destroy(new Error(`${method} ${path} got no answer within 15 s`)));
    req.end(body);
  });
}

/**
 * A POST held in flight by the client on a raw connection: the headers and half of the body are sent, the rest
 * only on `finish()`, which resolves with the raw response text.
 */
export async function holdRequest(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ finish(): Promise<string> }> {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  const socket: Socket = connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('utf8')));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text.slice(0, half)}`);
  const complete = () => {
    const end = response.indexOf('\r\n\r\n');
    return end >= 0 && response.length >= end + 4 + Number(/content-length: (\d+)/i.exec(response)?.[1] ?? 0);
  };
  return {
    finish: async () => {
      socket.write(text.slice(half));
      await waitFor(complete, 30_000, 'the held request to be answered');
      socket.end();
      await closed;
      return response;
    },
  };
}

/** Whether a new TCP connection to the port is refused. */
export function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}
