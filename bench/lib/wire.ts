import type Redis from 'ioredis';
import type { Socket } from 'node:net';

/**
 * Counts what a client puts on the wire. A round trip is a wave of writes with no reply in between: writes sent
 * back to back (a pipeline, or commands issued together) share one wait; a write after a reply arrived had to wait
 * for it. Each RESP array written is one command (EVALSHA, MULTI… count as one).
 */
export class WireCounter {
  roundTrips = 0;
  writes = 0;
  private replySinceWrite = true;
  commands = 0;
  names: string[] = [];
  private readonly wrapped = new WeakSet<object>();

  constructor(private readonly client: Redis) {}

  /** Wraps the client's current socket; call again after (re)connecting. */
  attach(): void {
    const stream = (this.client as unknown as { stream?: Socket }).stream;
    if (!stream || this.wrapped.has(stream)) return;
    this.wrapped.add(stream);
    stream.on('data', () => (this.replySinceWrite = true));
    const original = stream.write.bind(stream) as (...args: unknown[]) => boolean;
    (stream as unknown as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
      this.writes++;
      if (this.replySinceWrite) this.roundTrips++;
      this.replySinceWrite = false;
      const chunk = args[0];
      const names = commandNames(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      this.commands += names.length;
      this.names.push(...names);
      return original(...args);
    };
  }

  reset(): void {
    this.roundTrips = 0;
    this.replySinceWrite = true;
    this.writes = 0;
    this.commands = 0;
    this.names = [];
  }
}

/** The command names in a buffer of RESP-encoded requests (arrays of bulk strings). */
export function commandNames(buf: Buffer): string[] {
  const names: string[] = [];
  let i = 0;
  const readLine = () => {
    const end = buf.indexOf('\r\n', i);
    if (end < 0) return null;
    const line = buf.toString('latin1', i, end);
    i = end + 2;
    return line;
  };
  while (i < buf.length) {
    const head = readLine();
    if (!head || head[0] !== '*') break;
    const n = Number(head.slice(1));
    let first: string | undefined;
    for (let a = 0; a < n; a++) {
      const len = Number(readLine()?.slice(1));
      if (a === 0) first = buf.toString('latin1', i, i + len).toUpperCase();
      i += len + 2;
    }
    names.push(first ?? '?');
  }
  return names;
}

/** Redis's own per-command call counts (INFO commandstats), commands run inside scripts included. */
export async function commandCalls(redis: Redis): Promise<Map<string, number>> {
  const text = await redis.info('commandstats');
  const calls = new Map<string, number>();
  for (const m of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], Number(m[2]));
  return calls;
}

/** Calls per command Redis executed between two snapshots, less the INFO that took the first snapshot. */
export function commandsBetween(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of after) {
    const d = n - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

/** The same as a total and a `name×calls` summary. */
export function callsBetween(before: Map<string, number>, after: Map<string, number>): { total: number; by: string } {
  const grew = commandsBetween(before, after);
  const names = Object.keys(grew).sort();
  return { total: names.reduce((a, n) => a + grew[n], 0), by: names.map((n) => `${n}×${grew[n]}`).join(' ') };
}

/** The commands among `names` (as commandstats names them: `get`, `client|setname`) that Redis flags `write`. */
export async function writeCommandsAmong(redis: Redis, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const top = [...new Set(names.map((n) => n.split('|')[0]))];
  const info = (await redis.command('INFO', ...top)) as ([string, number, string[]] | null)[];
  const writing = new Set(info.filter((i) => i?.[2].includes('write')).map((i) => i![0]));
  return names.filter((n) => writing.has(n.split('|')[0]));
}
