import Redis from 'ioredis';
import { commandCalls as callsOf, writeCommandsAmong } from '../../bench/lib/wire';

/** Calls per command from INFO commandstats of the node at `port` (a connection of its own, no ready check). */
export async function commandCalls(port: number): Promise<Map<string, number>> {
  // No ready check: the one INFO this reading sends is the only one it adds (commandsBetween takes it off).
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1, enableReadyCheck: false });
  try {
    return await callsOf(c);
  } finally {
    c.disconnect();
  }
}

/** The commands among `names` that the node at `port` flags `write` (set, hincrby, pexpire, unlink, …). */
export async function writeCommands(port: number, names: string[]): Promise<string[]> {
  const c = new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 });
  try {
    return await writeCommandsAmong(c, names);
  } finally {
    c.disconnect();
  }
}

/** What clients send to keep connections and topology, and replicas to acknowledge replication: no request's work. */
export const CONNECTION_COMMANDS = new Set(['cluster|slots', 'cluster|nodes', 'cluster|info', 'cluster|shards', 'command', 'command|docs', 'command|info', 'readonly', 'ping', 'client|setname', 'client|setinfo', 'hello', 'auth', 'select', 'replconf']);
