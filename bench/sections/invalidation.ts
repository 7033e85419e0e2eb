import Redis from 'ioredis';
import { EntryStore } from '../../lambdas/domain/entries';
import { startRedisProcess } from '../../lambdas/local/redis-process';
import { connectionSettingsFromEnv, runtimeConfig } from '../../lambdas/core/config';
import { whenReady } from '../../lambdas/core/readiness';
import { createRedisClient } from '../../lambdas/core/redis';
import type { SectionResult } from '../lib/report';
import { spawn } from 'node:child_process';
import { fmtInt, fmtMs, sleep } from '../lib/stats';
import { which } from '../lib/tools';

/** `redis-cli --latency` in its own process; on stop (SIGINT) it prints `min max avg samples` in ms. */
function startPinger(port: number): { stop(): Promise<{ max: number; avg: number; samples: number } | undefined> } {
  const cli = which('redis-cli');
  if (!cli) return { stop: async () => undefined };
  const proc = spawn(cli, ['-h', '127.0.0.1', '-p', String(port), '--latency', '--raw'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  const exited = new Promise<void>((r) => proc.once('close', () => r()));
  const guard = setTimeout(() => proc.kill('SIGKILL'), 900_000);
  const started = Date.now();
  return {
    stop: async () => {
      // redis-cli installs its SIGINT report after its first second.
      await sleep(Math.max(0, started + 1200 - Date.now()));
      proc.kill('SIGINT');
      await exited;
      clearTimeout(guard);
      const [, max, avg, samples] = out.trim().split(/\s+/).map(Number);
      return Number.isFinite(max) ? { max, avg, samples } : undefined;
    },
  };
}

export interface InvalidationOptions {
  sizes: number[];
  /** Keys outside the prefix, as a fraction of the matching ones (SCAN visits them too). */
  othersFraction: number;
}

/** Fills Redis with `count` keys `k:<prefix><i>`: DEBUG POPULATE when allowed (fast), pipelined SETs otherwise. */
async function populate(redis: Redis, prefix: string, count: number): Promise<void> {
  try {
    // DEBUG POPULATE names keys `<prefix>:<i>`.
    await redis.call('DEBUG', 'POPULATE', String(count), `k:${prefix.replace(/:$/, '')}`, '32');
    return;
  } catch {
    // DEBUG disabled: fall back to pipelines of SET
  }
  for (let start = 0; start < count; start += 10_000) {
    const p = redis.pipeline();
    for (let i = start; i < Math.min(count, start + 10_000); i++) p.set(`k:${prefix}${i}`, '1:0:0:"x"');
    await p.exec();
  }
}

/**
 * Prefix invalidation as the invalidate route runs it (EntryStore.invalidate → SCAN MATCH … COUNT 1000, UNLINK per
 * step) over a keyspace of N matching keys plus others, on a private redis-server per size. Meanwhile a probe
 * client PINGs Redis back to back: its worst round trip is what other requests see; Redis's latency monitor
 * (threshold 1 ms) reports its worst single command.
 */
export async function invalidation(o: InvalidationOptions): Promise<SectionResult> {
  const rows: string[][] = [];
  const notes: string[] = [];
  const timeoutMs = runtimeConfig().redisTimeoutMs;
  let longest = 0;
  for (const size of o.sizes) {
    const server = await startRedisProcess({ args: ['--enable-debug-command', 'yes'] });
    const admin = new Redis(server.url);
    const client = createRedisClient({ ...connectionSettingsFromEnv({}, 60_000), url: server.url });
    try {
      const others = Math.round(size * o.othersFraction);
      await populate(admin, 'inv:', size);
      if (others) await populate(admin, 'keep:', others);
      const dbsize = await admin.dbsize();
      await admin.config('SET', 'latency-monitor-threshold', '1');
      await admin.call('LATENCY', 'RESET');
      await admin.config('RESETSTAT');

      await whenReady(client, 10_000);
      const store = new EntryStore(client, { ...runtimeConfig() });
      const pinger = startPinger(server.port);
      await sleep(200);
      const start = process.hrtime.bigint();
      const removed = await store.invalidate({ prefix: 'inv:' });
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const pings = await pinger.stop();
      longest = Math.max(longest, ms);

      const latest = (await admin.call('LATENCY', 'LATEST')) as [string, number, number, number][];
      const worstCommand = latest.filter((e) => e[0] === 'command' || e[0] === 'fast-command').reduce((m, e) => Math.max(m, Number(e[3])), 0);
      const stats = await admin.info('commandstats');
      const commands = [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)/gm)]
        .filter((m) => !['config', 'latency', 'info', 'ping', 'dbsize'].includes(m[1].split('|')[0]))
        .sort((a, b) => Number(b[3]) - Number(a[3]))
        .map((m) => `${m[1]} ${fmtInt(Number(m[2]))} × ${Number(m[4]).toFixed(m[4] && Number(m[4]) < 10 ? 1 : 0)} µs`)
        .join(', ');
      const left = await admin.dbsize();
      rows.push([
        fmtInt(size),
        fmtInt(dbsize),
        fmtInt(removed),
        fmtMs(ms),
        fmtInt((removed / ms) * 1000),
        commands,
        worstCommand ? `${worstCommand} ms` : '< 1 ms',
        pings ? `${pings.avg.toFixed(2)} / ${pings.max} ms (${pings.samples} pings)` : 'n/a (redis-cli missing)',
        left === others ? 'yes' : `no (${fmtInt(left)} left, expected ${fmtInt(others)})`,
      ]);
    } finally {
      admin.disconnect();
      client.disconnect();
      await server.stop();
    }
  }
  if (longest > timeoutMs) {
    notes.push(
      `The largest run took ${fmtMs(longest)}, past REDIS_TIMEOUT_MS (${timeoutMs} ms): the invalidate route is keyspace-wide, so it may use ` +
        `the function's remaining time (less 1 s) rather than that per-request deadline; each command it sends is still bounded by it. ` +
        `With the default Lambda timeout (10 s) about 1.7M keys fit in one request; past that it answers 503, keeps what it removed, and a repeat finishes the job.`,
    );
  }
  return {
    title: '5. Prefix invalidation over large keyspaces',
    method:
      `For each size N: a private redis-server holding N keys under the prefix and ${Math.round(o.othersFraction * 100)}% as many outside it, then EntryStore.invalidate({ prefix }) — ` +
      'what the invalidate route runs — through a client made as the handlers make theirs. "worst command" is Redis\'s latency monitor (LATENCY LATEST, threshold 1 ms); ' +
      'the PING column is `redis-cli --latency` (its own process, a PING every 10 ms) running throughout: what any other request sees meanwhile.',
    tables: [
      {
        header: ['matching keys', 'keys in Redis', 'removed', 'duration', 'keys/s', 'Redis commands: calls × µs per call (inside scripts too)', 'worst command', 'redis-cli PING avg / max', 'others intact'],
        rows,
      },
    ],
    targets: [],
    notes,
  };
}
