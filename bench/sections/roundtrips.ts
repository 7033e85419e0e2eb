import Redis from 'ioredis';
import { routes } from '../../lambdas/routes';
import { createRedisClient } from '../../lambdas/core/redis';
import { connectionSettingsFromEnv, runtimeConfig } from '../../lambdas/core/config';
import { whenReady } from '../../lambdas/core/readiness';
import { lambdaContext, proxyEvent } from '../lib/events';
import { callRoute, closeServices, loadHandler, useRedisForHandlers } from '../lib/handlers';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { callsBetween, commandCalls, WireCounter } from '../lib/wire';
import { samples } from '../samples';

/**
 * Drives every route of the table with its sample request and counts, at the handler's client, the socket writes
 * (network round trips, since each one is awaited) and the commands in them, and at Redis the commands it ran
 * (INFO commandstats, commands inside Lua scripts included).
 */
export async function roundTrips(redisUrl: string): Promise<SectionResult> {
  useRedisForHandlers(redisUrl);
  // The client as a Lambda function makes it (AWS_LAMBDA_FUNCTION_NAME is set there).
  const lambdaEnv = { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'skycache-bench' };
  const client = createRedisClient(connectionSettingsFromEnv(lambdaEnv, runtimeConfig().redisTimeoutMs)) as Redis;
  useRedisForHandlers(redisUrl, client);
  await whenReady(client, 10_000);
  const wire = new WireCounter(client);
  client.on('ready', () => wire.attach());
  wire.attach();
  const admin = new Redis(redisUrl);
  const ctx = lambdaContext();
  const call = callRoute(ctx);
  const rows: string[][] = [];
  const failures: string[] = [];
  const singleKey: { name: string; writes: number }[] = [];
  try {
    for (const route of routes) {
      const list = samples[route.id];
      if (!list?.length) {
        rows.push([route.id, `${route.method} ${route.path}`, 'no sample', '', '', '', '', '']);
        continue;
      }
      const handler = loadHandler(route.handler);
      for (const sample of list) {
        const name = sample.variant ? `${route.id} (${sample.variant})` : route.id;
        try {
          // Once unmeasured, so scripts are loaded (EVALSHA's first NOSCRIPT → EVAL happens once per process).
          await sample.setup?.(admin, call);
          await handler(proxyEvent(route, sample.request), ctx);
          await sample.setup?.(admin, call);
          const before = await commandCalls(admin);
          wire.reset();
          const result = await handler(proxyEvent(route, sample.request), ctx);
          const writes = wire.writes;
          const trips = wire.roundTrips;
          const sent = wire.commands;
          const names = [...wire.names];
          const atRedis = callsBetween(before, await commandCalls(admin));
          const ok = sample.expectStatus ? result.statusCode === sample.expectStatus : result.statusCode >= 200 && result.statusCode < 300;
          const statusNote = ok ? String(result.statusCode) : `${result.statusCode} (expected ${sample.expectStatus ?? '2xx'})`;
          if (!ok) failures.push(`${name}: ${statusNote} ${result.body}`);
          rows.push([name, `${route.method} ${route.path}`, statusNote, String(trips), String(writes), `${sent} (${summarize(names)})`, String(atRedis.total), atRedis.by]);
          if (sample.singleKey) singleKey.push({ name, writes: trips });
        } catch (e) {
          failures.push(`${name}: ${(e as Error).message}`);
          rows.push([name, `${route.method} ${route.path}`, 'failed (see notes)', '', '', '', '', '']);
        }
      }
    }
  } finally {
    admin.disconnect();
    await closeServices();
  }
  const over = singleKey.filter((s) => s.writes !== 1);
  const targets: TargetVerdict[] = [
    {
      target: 'one round trip per single-key operation',
      met: over.length === 0 && singleKey.length > 0,
      measured: over.length ? over.map((s) => `${s.name}: ${s.writes}`).join(', ') : `${singleKey.length} single-key requests, 1 round trip each`,
    },
  ];
  return {
    title: '4. Round trips to Redis per request, every route',
    method:
      'Each route of lambdas/routes.ts is driven through its handler with the sample request in bench/samples.ts (routes without one are listed as "no sample"). ' +
      'Round trips = waves of socket writes by the handler\'s ioredis client with no reply in between (writes sent back to back share one wait), counted at the client; ' +
      'socket writes = every write; client commands = RESP commands in those writes ' +
      '(EVALSHA, MULTI…EXEC count as sent); commands at Redis = INFO commandstats delta, which includes the commands a Lua script runs. Measured after one warm-up request, so the script cache is loaded.',
    tables: [{ header: ['route (sample)', 'method path', 'status', 'round trips', 'socket writes', 'client commands', 'commands at Redis', 'at Redis, by command'], rows }],
    targets,
    notes: [
      ...failures.map((f) => `Sample answered unexpectedly: ${f}`),
      'A cold container pays one extra round trip per script on its first use (EVALSHA → NOSCRIPT → EVAL); ioredis then keeps using EVALSHA.',
      'Prefix invalidation is SCAN … COUNT 1000 then one delete command per batch of matches, so its round trips grow with the size of the keyspace (about 2 per 1,000 keys on each primary), not with the number of matches.',
    ],
  };
}

function summarize(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => (c > 1 ? `${n}×${c}` : n)).join(' ');
}
