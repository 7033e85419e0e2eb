import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../..');
/** `npm start` (private redis-server unless REDIS_URL is given) and the container's entry. */
export const NPM_START = 'lambdas/local/main.ts';
export const SERVER_ENTRY = 'lambdas/server/main.ts';

export interface ServiceProcess {
  url: string;
  port: number;
  process: ChildProcess;
  /** Every line the service printed so far (stdout and stderr). */
  lines: string[];
  /** The private redis-server's pid, when the service started one. */
  redisPid?: number;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<number | string>;
  /** SIGTERM, then SIGKILL after `ms`; resolves once it exited. */
  stop(ms?: number): Promise<number | string>;
}

/** Polls `condition` every `everyMs` until it holds, for at most `timeoutMs` (the machine may be busy). */
export async function until<T>(what: string, condition: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Runs the service as its own process tree (primary + workers, through tsx), on a free port, and waits until it
 * prints the URL it listens on. Stopped by PID in `stop()`.
 */
export async function startService(env: Record<string, string>, entry = NPM_START, timeoutMs = 60_000): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, entry)], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', POWERTOOLS_LOG_LEVEL: 'WARN', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  for (const stream of [child.stdout!, child.stderr!]) createInterface({ input: stream }).on('line', (l) => lines.push(l));
  const exited = new Promise<number | string>((r) => child.once('exit', (code, signal) => r(code ?? signal ?? -1)));
  let exitedWith: number | string | undefined;
  void exited.then((c) => (exitedWith = c));
  const url = await until(
    'the service to listen',
    () => {
      if (exitedWith !== undefined) throw new Error(`the service exited (${exitedWith}): ${lines.join('\n')}`);
      return lines.map((l) => /listening on (http:\/\/\S+)/.exec(l)?.[1]).find(Boolean);
    },
    timeoutMs,
  ).catch((e) => {
    child.kill('SIGKILL');
    throw e;
  });
  const redisPid = lines.map((l) => /private redis-server .*\(pid (\d+)\)/.exec(l)?.[1]).find(Boolean);
  const stop = async (ms = 30_000) => {
    if (exitedWith === undefined) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      await exited;
      clearTimeout(timer);
    }
    return exited;
  };
  return { url, port: Number(new URL(url).port), process: child, lines, redisPid: redisPid ? Number(redisPid) : undefined, exited, stop };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json?: { error?: { code: string; message: string } } & Record<string, unknown>;
}

/** One request on a connection of its own (no pooling: each reaches whichever worker the primary picks). */
export function call(url: string, method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolvePromise, reject) => {
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
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, json: text ? JSON.parse(text) : undefined });
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
 * A request held in flight by the client: the headers and half of the body are sent, the rest only on `finish()`,
 * which resolves with the raw response text.
 */
export interface HeldRequest {
  socket: Socket;
  finish(): Promise<string>;
}

export async function holdRequest(port: number, path: string, body: unknown, headers: Record<string, string> = {}): Promise<HeldRequest> {
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  const socket = connect(port, '127.0.0.1');
  await new Promise<void>((r, reject) => {
    socket.once('connect', r);
    socket.once('error', reject);
  });
  let response = '';
  socket.on('data', (d: Buffer) => (response += d.toString('utf8')));
  const ended = new Promise<string>((r) => socket.once('close', () => r(response)));
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.write(`POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text.slice(0, half)}`);
  return {
    socket,
    finish: async () => {
      socket.write(text.slice(half));
      // The server answers, then closes the connection (draining) or keeps it: read until the whole answer is here.
      const complete = () => /\r\n\r\n/.test(response) && response.length >= response.indexOf('\r\n\r\n') + 4 + Number(/content-length: (\d+)/i.exec(response)?.[1] ?? 0);
      await until('the held request to be answered', () => complete() || undefined);
      socket.end();
      await ended;
      return response;
    },
  };
}

/** Whether a new TCP connection to the port is refused. */
export function refused(port: number): Promise<boolean> {
  return new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      r(false);
    });
    s.once('error', (e: NodeJS.ErrnoException) => r(e.code === 'ECONNREFUSED'));
  });
}

/** Whether a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
