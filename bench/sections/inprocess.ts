import Redis from 'ioredis';
import { withScripts } from '../../lambdas/domain/scripts';
import { routes } from '../../lambdas/routes';
import { connectionSettingsFromEnv, runtimeConfig } from '../../lambdas/core/config';
import { createRedisClient, type RedisClient } from '../../lambdas/core/redis';
import { whenReady } from '../../lambdas/core/readiness';
import { services } from '../../lambdas/services';
import { lambdaContext, proxyEvent } from '../lib/events';
import { loadHandler, useRedisForHandlers } from '../lib/handlers';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtRatio, fmtUs, Samples, timeUs } from '../lib/stats';
import { valueOfSize } from '../samples';

export interface InProcessOptions {
  redisUrl: string;
  /** Timed operations per variant. */
  iterations: number;
  /** Wall-clock bound for the whole section. */
  maxSeconds: number;
}

const MAX_OVERHEAD = 0.2;

/**
 * Sequential latency of GET and SET through the handler (proxy event in, proxy result out) against the same
 * command on a raw ioredis client. Variants run interleaved in small rounds so that noise from other processes on
 * the machine falls on all of them alike.
 */
export async function inProcess(o: InProcessOptions): Promise<SectionResult> {
  const raw = new Redis(o.redisUrl);
  // The handlers' client as a Lambda function makes it (AWS_LAMBDA_FUNCTION_NAME is set there), and one with
  // auto-pipelining the other way round.
  const lambdaEnv = { ...process.env, AWS_LAMBDA_FUNCTION_NAME: 'skycache-bench' };
  const settings = { ...connectionSettingsFromEnv(lambdaEnv, runtimeConfig().redisTimeoutMs), url: o.redisUrl };
  const configured = createRedisClient(settings);
  const autoPipelined = settings.autoPipelining ?? true;
  const flipped = createRedisClient({ ...settings, autoPipelining: !autoPipelined });
  // The service's clients keep no offline queue: wait until they are connected.
  await Promise.all([whenReady(configured, 10_000), whenReady(flipped, 10_000)]);
  let inUse: RedisClient | undefined;
  const use = (client: RedisClient) => () => {
    if (inUse !== client) useRedisForHandlers(o.redisUrl, client);
    inUse = client;
  };
  use(configured)();
  const svc = services();
  const flippedName = `handler getEntry, auto-pipelining ${autoPipelined ? 'off' : 'on'}`;
  const rawScripts = withScripts(raw);
  const ctx = lambdaContext();
  const route = (id: string) => routes.find((r) => r.id === id)!;
  const getHandler = loadHandler(route('getEntry').handler);
  const setHandler = loadHandler(route('setEntry').handler);
  const value = valueOfSize(512);
  const valueJson = JSON.stringify(value);

  // The same stored entry for every GET variant: what the SET script writes.
  await setHandler(proxyEvent(route('setEntry'), { body: { key: 'bench:get', value, ttl: 3600 } }), ctx);
  const stored = (await raw.get('k:bench:get'))!;

  const getEvent = proxyEvent(route('getEntry'), { pathParameters: { key: 'bench:get' } });
  const setEvent = proxyEvent(route('setEntry'), { body: { key: 'bench:set', value, ttl: 3600 } });
  const check = (status: number, want: number) => {
    if (status !== want) throw new Error(`handler answered ${status}, expected ${want}`);
  };

  const variants: { name: string; op: 'GET' | 'SET'; run: () => Promise<unknown>; before?: () => void }[] = [
    { name: 'raw ioredis GET', op: 'GET', run: () => raw.get('k:bench:get') },
    { name: 'raw ioredis EVALSHA skycacheGet', op: 'GET', run: () => rawScripts.skycacheGet('k:bench:get', '_:stats', '') },
    { name: `raw GET on the handler's client (auto-pipelining ${autoPipelined ? 'on' : 'off'})`, op: 'GET', run: () => svc.redis.get('k:bench:get') },
    { name: 'handler getEntry (event → proxy result)', op: 'GET', run: async () => check((await getHandler(getEvent, ctx)).statusCode, 200), before: use(configured) },
    { name: flippedName, op: 'GET', run: async () => check((await getHandler(getEvent, ctx)).statusCode, 200), before: use(flipped) },
    { name: 'raw ioredis SET … PX', op: 'SET', run: () => raw.set('k:bench:set-raw', stored, 'PX', 3_600_000) },
    { name: 'raw ioredis EVALSHA skycacheSet', op: 'SET', run: () => rawScripts.skycacheSet('k:bench:set-script', valueJson, 3_600_000, Date.now()) },
    { name: 'handler setEntry (event → proxy result)', op: 'SET', before: use(configured), run: async () => check((await setHandler(setEvent, ctx)).statusCode % 200 < 2 ? 200 : 0, 200) },
  ];
  const samples = new Map(variants.map((v) => [v.name, new Samples()]));

  // Warm-up: JIT, script cache (EVALSHA falls back to EVAL once), connections.
  for (let i = 0; i < 500; i++) {
    for (const v of variants) {
      v.before?.();
      await v.run();
    }
  }

  const round = 50;
  const until = Date.now() + o.maxSeconds * 1000;
  let done = 0;
  while (done < o.iterations && Date.now() < until) {
    for (const v of variants) {
      const s = samples.get(v.name)!;
      v.before?.();
      for (let i = 0; i < round; i++) s.add(await timeUs(v.run));
    }
    done += round;
  }
  raw.disconnect();
  use(configured)();
  flipped.disconnect();

  const baseline = { GET: samples.get('raw ioredis GET')!, SET: samples.get('raw ioredis SET … PX')! };
  const rows = variants.map((v) => {
    const s = samples.get(v.name)!;
    const b = baseline[v.op];
    return [v.op, v.name, String(s.count), fmtUs(s.percentile(50)), fmtUs(s.percentile(99)), fmtRatio(s.percentile(50) / b.percentile(50)), fmtRatio(s.percentile(99) / b.percentile(99))];
  });

  const handlerGet = samples.get('handler getEntry (event → proxy result)')!.percentile(50);
  const rawGet = baseline.GET.percentile(50);
  const scriptGet = samples.get('raw ioredis EVALSHA skycacheGet')!.percentile(50);
  const overhead = handlerGet / rawGet - 1;
  const targets: TargetVerdict[] = [
    {
      target: `handler GET adds ≤ ${MAX_OVERHEAD * 100}% to a raw ioredis GET at p50`,
      met: overhead <= MAX_OVERHEAD,
      measured: `+${(overhead * 100).toFixed(0)}% (${fmtUs(handlerGet)} vs ${fmtUs(rawGet)})`,
    },
  ];
  const flippedGet = samples.get(flippedName)!.percentile(50);
  const handlerSet = samples.get('handler setEntry (event → proxy result)')!.percentile(50);
  return {
    title: '1. In process: the per-request cost the Lambda handler adds',
    method:
      `Sequential requests (one at a time) from this process to a private redis-server on loopback, ${o.iterations} per variant, ` +
      `interleaved in rounds of ${round}. "handler" = API Gateway proxy event → middy handler → Redis → proxy result, ` +
      'exactly what runs in Lambda, minus the network hop from API Gateway. Ratios are against the raw ioredis command (p50 vs p50, p99 vs p99). ' +
      'GET in the handler is one EVALSHA of a Lua script that also counts the hit in Redis, so the raw EVALSHA row shows how much of the gap is Redis-side work.',
    tables: [{ header: ['op', 'variant', 'n', 'p50', 'p99', 'ratio p50', 'ratio p99'], rows }],
    targets,
    notes: [
      ...(overhead > MAX_OVERHEAD
        ? [
            `Why the GET target is missed: the Lua script alone (raw EVALSHA) is ${fmtRatio(scriptGet / rawGet)} a raw GET, so no handler can be within ${MAX_OVERHEAD * 100}% while GET counts hits in Redis and reads the TTL in the same round trip. ` +
              `Beyond the script the handler costs ${fmtUs(handlerGet - scriptGet)} per request of Node CPU. Meeting the target needs a design change: count hits in process and flush them (HINCRBY) once a second, and read the TTL only when asked, so GET becomes a plain GET.`,
          ]
        : []),
      `Of the handler GET's ${fmtUs(handlerGet - rawGet)} over raw GET at p50, ${fmtUs(scriptGet - rawGet)} is the Lua script (EVALSHA: GET + HINCRBY hit counter + PTTL in Redis) and ${fmtUs(handlerGet - scriptGet)} is the handler itself (middy, Powertools logger context, key validation, deadline timer, entry decoding, JSON).`,
      `The handler's client is made as in Lambda, where auto-pipelining is ${autoPipelined ? 'on' : 'off'}; with it ${autoPipelined ? 'off' : 'on'} (REDIS_AUTO_PIPELINING=${!autoPipelined}) the handler GET takes ${fmtUs(flippedGet)} at p50 (${fmtRatio(flippedGet / rawGet)} raw GET). ` +
        'A Lambda instance serves one request at a time, so coalescing commands per tick only delays each one (ioredis builds a pipeline per command and flushes it on a later tick); the local server, with many requests in flight, keeps it on.',
      `SET: the handler adds ${fmtUs(handlerSet - baseline.SET.percentile(50))} at p50 over a raw SET (body parsing and zod validation, version/timestamps Lua script, JSON).`,
    ],
  };
}
