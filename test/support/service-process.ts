import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** `npm start` as a separate process: the launcher, the server's and its private redis-server's PIDs, its output. */
export interface ServiceProcess {
  /** The process spawned: `npm` itself, or the server when started without npm. */
  launcher: ChildProcess;
  serverPid: number;
  redisPid: number;
  url: string;
  output(): string;
  exited: Promise<void>;
}

/**
 * Starts the local service as `npm start` does (`node --import tsx lambdas/local/main.ts`; with `viaNpm`, through
 * npm itself) on a free port with its private redis-server, and resolves once it listens.
 */
export async function startServiceProcess(options: { viaNpm?: boolean; env?: Record<string, string> } = {}): Promise<ServiceProcess> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ...options.env };
  delete env.REDIS_URL;
  delete env.REDIS_CLUSTER_NODES;
  const [command, args] = options.viaNpm
    ? ['npm', ['start', '--silent']]
    : [process.execPath, ['--import', 'tsx', 'lambdas/local/main.ts']];
  const launcher = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  launcher.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  launcher.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<void>((resolve) => launcher.once('exit', () => resolve()));
  await waitFor(() => /listening on \S+ \(pid \d+\)/.test(text) || launcher.exitCode !== null, 60_000, 'the service to listen');
  const listening = /listening on (\S+) \(pid (\d+)\)/.exec(text);
  const redis = /private redis-server at \S+ \(pid (\d+)\)/.exec(text);
  if (!listening || !redis) {
    launcher.kill('SIGKILL');
    throw new Error(`the service did not start:\n${text}`);
  }
  return { launcher, url: listening[1], serverPid: Number(listening[2]), redisPid: Number(redis[1]), output: () => text, exited };
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

/** Polls `condition` until it holds; fails after `timeoutMs` naming what it waited for. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
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
