import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { sleep } from './stats';

/** The path of an executable on PATH, or undefined. */
export function which(binary: string): string | undefined {
  try {
    return execFileSync('sh', ['-c', `command -v ${binary}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Finds `binary`, or installs its Debian package when running as root with apt-get (the bench's declared
 * dependencies: wrk, webdis, redis-tools). Returns the path, or a sentence saying why it is missing.
 */
export async function findOrInstall(binary: string, debianPackage: string, allowInstall: boolean): Promise<{ path?: string; problem?: string }> {
  const found = which(binary);
  if (found) return { path: found };
  const how = `apt-get install -y ${debianPackage}`;
  if (!allowInstall) return { problem: `${binary} not found (install it: ${how}; or run without --no-install)` };
  if (process.getuid?.() !== 0 || !which('apt-get')) return { problem: `${binary} not found and cannot install it here (not root or no apt-get); install it: ${how}` };
  const result = await new Promise<string | undefined>((resolve) =>
    execFile('apt-get', ['install', '-y', '--no-install-recommends', debianPackage], { timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } }, (e, _o, stderr) =>
      resolve(e ? (stderr || e.message).trim().split('\n').pop() : undefined),
    ),
  );
  const path = which(binary);
  return path ? { path } : { problem: `${binary} not found; \`${how}\` failed: ${result ?? 'unknown error'} (try apt-get update first)` };
}

export interface Child {
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a process and waits for the first stdout line (e.g. its URL), bounded in time. */
export function startChild(command: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000): Promise<{ child: Child; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr = (stderr + String(d)).slice(-2000)));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${command} did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}: ${stderr}`));
    });
    createInterface({ input: proc.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      proc.removeAllListeners('exit');
      resolve({ child: { process: proc, stop: () => stopProcess(proc) }, firstLine: line.trim() });
    });
  });
}

export async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const killed = sleep(3000).then(() => proc.kill('SIGKILL'));
  await Promise.race([exited, killed]);
  await exited;
}

/** Resolves once `url` answers any HTTP status, bounded in time. */
export async function waitForHttp(url: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      await fetch(url);
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}
