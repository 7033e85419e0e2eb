import Redis from 'ioredis';

/** Calls per command from INFO commandstats (`get`, `evalsha_ro`, `client|setname`, …). */
export async function commandCalls(port: number): Promise<Map<string, number>> {
  // No ready check: the one INFO this reading sends is the only one it adds (see grown).
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, enableReadyCheck: false });
  try {
    const out = new Map<string, number>();
    for (const m of (await c.info('commandstats')).matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1], Number(m[2]));
    return out;
  } finally {
    c.disconnect();
  }
}

/** Commands whose calls grew between two readings, with the growth, less the INFO the first reading sent. */
export function grown(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of after) {
    const more = n - (before.get(name) ?? 0) - (name === 'info' ? 1 : 0);
    if (more > 0) out[name] = more;
  }
  return out;
}

/** The commands among `names` that Redis flags `write` (COMMAND INFO), e.g. set, hincrby, pexpire, unlink. */
export async function writeCommands(port: number, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    const top = [...new Set(names.map((n) => n.split('|')[0]))];
    const info = (await c.command('INFO', ...top)) as [string, number, string[]][];
    const writing = new Set(info.filter((i) => i && i[2].includes('write')).map((i) => i[0]));
    return names.filter((n) => writing.has(n.split('|')[0]));
  } finally {
    c.disconnect();
  }
}

/** What clients send to keep connections and topology, and replicas to acknowledge replication: no request's work. */
export const CONNECTION_COMMANDS = new Set(['cluster|slots', 'cluster|nodes', 'cluster|info', 'cluster|shards', 'command', 'command|docs', 'command|info', 'readonly', 'ping', 'client|setname', 'client|setinfo', 'hello', 'auth', 'select', 'replconf']);
