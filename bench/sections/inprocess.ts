import { leaseKey } from '../../lambdas/core/keyspace';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import Redis from 'ioredis';
import { decodeEntry, entryJson } from '../../lambdas/domain/entries';
import { withScripts } from '../../lambdas/domain/scripts';
import { json, toProxyResult } from '../../lambdas/http/results';
import { logger } from '../../lambdas/core/logger';
import { keySchema } from '../../lambdas/http/schemas';
import { routes } from '../../lambdas/routes';
import { connectionSettingsFromEnv, runtimeConfig } from '../../lambdas/core/config';
import { createRedisClient, type RedisClient } from '../../lambdas/core/redis';
import { whenReady } from '../../lambdas/core/readiness';
import { services } from '../../lambdas/services';
import { lambdaContext, proxyEvent } from '../lib/events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDeployedHandler, loadHandler, useRedisForHandlers, withEnv } from '../lib/handlers';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtRatio, fmtUs, Samples, timeUs } from '../lib/stats';
import { valueOfSize } from '../samples';
import { onCpuNanos } from '../lib/proc';
import { withDeadline } from '../../lambdas/core/deadline';
import { PerformanceObserver } from 'node:perf_hooks';

export interface InProcessOptions {
  redisUrl: string;
  /** Timed operations per variant. */
  iterations: number;
  /** Wall-clock bound for the whole section. */
  maxSeconds: number;
  /** The redis-server's pid, to measure the CPU it spends per request. */
  redisPid?: number;
  /** Whether this process and the redis-server run pinned to different CPUs (bench/lib/proc.ts, onSeparateCpus). */
  pinned?: boolean;
}

/**
 * Handler GET against a raw ioredis GET (p50, p99), handler SET against a raw SET … PX (p50), and Redis's CPU per
 * handler GET against a raw GET's.
 */
const TARGETS = { getP50: 1.2, getP99: 1.5, setP50: 1.3, redisCpu: 1.1 };

/** Calls per command name from INFO commandstats. */
function commandCalls(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1], Number(m[2]));
  return calls;
}

/** Mean µs per call of `fn`, over `n` sequential calls (after a warm-up of n/10). */
async function meanUs(fn: () => unknown, n: number): Promise<number> {
  for (let i = 0; i < n / 10; i++) await fn();
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - start) / 1000 / n;
}

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
  // The service's clients keep no offline queue: wait until they are connected.
  await whenReady(configured, 10_000);
  let inUse: RedisClient | undefined;
  const use = (client: RedisClient) => () => {
    if (inUse !== client) useRedisForHandlers(o.redisUrl, client);
    inUse = client;
  };
  use(configured)();
  const svc = services();
  const flippedName = `handler getEntry, auto-pipelining ${autoPipelined ? 'off' : 'on'}`;
  const sourceGetName = 'handler getEntry from the TypeScript sources (tsx, not bundled)';
  const rawScripts = withScripts(raw);
  const ctx = lambdaContext();
  const route = (id: string) => routes.find((r) => r.id === id)!;
  const sourceGetHandler = loadHandler(route('getEntry').handler);
  const value = valueOfSize(512);
  const valueJson = JSON.stringify(value);
  const getEvent = proxyEvent(route('getEntry'), { pathParameters: { key: 'bench:get' } });
  const setEvent = proxyEvent(route('setEntry'), { body: { key: 'bench:set', value, ttl: 3600 } });
  const check = (status: number, want: number) => {
    if (status !== want) throw new Error(`handler answered ${status}, expected ${want}`);
  };
  // A write answers 201 when it created the entry, 200 when it replaced one.
  const checkWritten = (status: number) => check(status === 201 ? 200 : status, 200);

  // The handlers as they deploy: each module's bundle (lib/bundling.ts), imported and first called with a Lambda
  // function's environment, so it makes its client as a Lambda instance does; one more copy of the GET bundle with
  // auto-pipelining the other way round.
  const bundleDir = mkdtempSync(join(tmpdir(), 'skycache-inprocess-'));
  const lambdaVars = { REDIS_URL: o.redisUrl, AWS_LAMBDA_FUNCTION_NAME: 'skycache-bench' };
  const [getHandler, setHandler, flippedGetHandler] = await withEnv(lambdaVars, async () => {
    const get = await loadDeployedHandler(route('getEntry').handler, bundleDir);
    const set = await loadDeployedHandler(route('setEntry').handler, bundleDir);
    // The same stored entry for every GET variant: what the SET script writes.
    checkWritten((await set(proxyEvent(route('setEntry'), { body: { key: 'bench:get', value, ttl: 3600 } }), ctx)).statusCode);
    check((await get(getEvent, ctx)).statusCode, 200);
    const flippedGet = await withEnv({ REDIS_AUTO_PIPELINING: String(!autoPipelined) }, async () => {
      const handler = await loadDeployedHandler(route('getEntry').handler, bundleDir, 'flipped');
      check((await handler(getEvent, ctx)).statusCode, 200);
      return handler;
    });
    return [get, set, flippedGet];
  });
  rmSync(bundleDir, { recursive: true, force: true });
  const stored = (await raw.get('k:bench:get'))!;

  const variants: { name: string; op: 'GET' | 'SET'; run: () => Promise<unknown>; before?: () => void }[] = [
    { name: 'raw ioredis GET', op: 'GET', run: () => raw.get('k:bench:get') },
    { name: `raw GET on the handler's client (auto-pipelining ${autoPipelined ? 'on' : 'off'})`, op: 'GET', run: () => svc.redis.get('k:bench:get') },
    { name: 'handler getEntry (event → proxy result)', op: 'GET', run: async () => check((await getHandler(getEvent, ctx)).statusCode, 200) },
    { name: flippedName, op: 'GET', run: async () => check((await flippedGetHandler(getEvent, ctx)).statusCode, 200) },
    { name: sourceGetName, op: 'GET', run: async () => check((await sourceGetHandler(getEvent, ctx)).statusCode, 200), before: use(configured) },
    { name: 'raw ioredis SET … PX', op: 'SET', run: () => raw.set('k:bench:set-raw', stored, 'PX', 3_600_000) },
    { name: 'raw ioredis EVALSHA skycacheSet', op: 'SET', run: () => rawScripts.skycacheSet('k:bench:set-script', leaseKey('k:bench:set-script', false), valueJson, 3_600_000, Date.now(), '', '', '_:tag:', 0, '', '') },
    { name: 'handler setEntry (event → proxy result)', op: 'SET', run: async () => checkWritten((await setHandler(setEvent, ctx)).statusCode) },
  ];
  const samples = new Map(variants.map((v) => [v.name, new Samples()]));
  const handlerGetName = 'handler getEntry (event → proxy result)';

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
  // V8's garbage collections during the timed rounds, each matched to the variant whose round it fell in.
  const rounds: { name: string; start: number; end: number }[] = [];
  const collections: { start: number; ms: number }[] = [];
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) collections.push({ start: e.startTime, ms: e.duration });
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  while (done < o.iterations && Date.now() < until) {
    for (const v of variants) {
      const s = samples.get(v.name)!;
      v.before?.();
      const start = performance.now();
      for (let i = 0; i < round; i++) s.add(await timeUs(v.run));
      rounds.push({ name: v.name, start, end: performance.now() });
    }
    done += round;
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  gcObserver.disconnect();
  const gcOf = (name: string) => {
    const mine = rounds.filter((r) => r.name === name);
    const hit = collections.filter((c) => mine.some((r) => c.start >= r.start && c.start < r.end));
    return { perThousand: (hit.length * 1000) / (mine.length * round), ms: hit.reduce((a, c) => a + c.ms, 0) };
  };
  use(configured)();

  // --- Redis's CPU per GET, under the same sequential conditions for both (one command per read syscall at
  // Redis): the scheduler's on-CPU time of redis-server over rounds of raw GETs and of handler GETs, interleaved.
  // Redis's CPU per command also grows with the pause before it (a CPU that went idle meets the next command with
  // cold caches), so a third variant sends raw GETs paced like the handler's: the same command, the same gaps.
  const redisCpu = { raw: 0, paced: 0, handler: 0, n: 0 };
  const cpuRound = 200;
  const cpuUntil = Date.now() + o.maxSeconds * 250;
  const onCpuRedis = () => onCpuNanos(o.redisPid);
  const gapNs = BigInt(Math.max(0, Math.round((samples.get(handlerGetName)!.percentile(50) - samples.get('raw ioredis GET')!.percentile(50)) * 1000)));
  if (onCpuRedis() !== undefined) {
    const getEntry = async () => check((await getHandler(getEvent, ctx)).statusCode, 200);
    const rawGet = () => raw.get('k:bench:get');
    const pacedGet = () => {
      const until = process.hrtime.bigint() + gapNs;
      while (process.hrtime.bigint() < until) {
        // the handler's own time between two GETs, spent here instead
      }
      return raw.get('k:bench:get');
    };
    while (redisCpu.n < o.iterations && Date.now() < cpuUntil) {
      for (const [which, run] of [['raw', rawGet], ['paced', pacedGet], ['handler', getEntry]] as const) {
        const before = onCpuRedis()!;
        for (let i = 0; i < cpuRound; i++) await run();
        redisCpu[which] += onCpuRedis()! - before;
      }
      redisCpu.n += cpuRound;
    }
  }
  // What a handler GET sends, as Redis counts it (a script's inner commands included).
  const statsBefore = commandCalls(await raw.info('commandstats'));
  const counted = 1000;
  for (let i = 0; i < counted; i++) check((await getHandler(getEvent, ctx)).statusCode, 200);
  const statsAfter = commandCalls(await raw.info('commandstats'));
  const perGet = [...statsAfter]
    .map(([name, calls]) => [name, (calls - (statsBefore.get(name) ?? 0) - (name === 'info' ? 1 : 0)) / counted] as const)
    .filter(([, per]) => per > 0);
  const perGetText = perGet.map(([name, per]) => `${name} ×${per.toFixed(per % 1 ? 2 : 0)}`).join(', ') || 'none';

  const baseline = { GET: samples.get('raw ioredis GET')!, SET: samples.get('raw ioredis SET … PX')! };
  const rows = variants.map((v) => {
    const s = samples.get(v.name)!;
    const b = baseline[v.op];
    return [v.op, v.name, String(s.count), fmtUs(s.percentile(50)), fmtUs(s.percentile(99)), fmtRatio(s.percentile(50) / b.percentile(50)), fmtRatio(s.percentile(99) / b.percentile(99))];
  });

  const p = (name: string, q: number) => samples.get(name)!.percentile(q);
  const handlerSetName = 'handler setEntry (event → proxy result)';
  const ratio = { getP50: p(handlerGetName, 50) / baseline.GET.percentile(50), getP99: p(handlerGetName, 99) / baseline.GET.percentile(99), setP50: p(handlerSetName, 50) / baseline.SET.percentile(50) };
  const targets: TargetVerdict[] = [
    { target: `handler GET ≤ ${TARGETS.getP50}× a raw ioredis GET at p50`, met: ratio.getP50 <= TARGETS.getP50, measured: `${fmtRatio(ratio.getP50)} (${fmtUs(p(handlerGetName, 50))} vs ${fmtUs(baseline.GET.percentile(50))})` },
    { target: `handler GET ≤ ${TARGETS.getP99}× a raw ioredis GET at p99`, met: ratio.getP99 <= TARGETS.getP99, measured: `${fmtRatio(ratio.getP99)} (${fmtUs(p(handlerGetName, 99))} vs ${fmtUs(baseline.GET.percentile(99))})` },
    { target: `handler SET ≤ ${TARGETS.setP50}× a raw SET … PX at p50`, met: ratio.setP50 <= TARGETS.setP50, measured: `${fmtRatio(ratio.setP50)} (${fmtUs(p(handlerSetName, 50))} vs ${fmtUs(baseline.SET.percentile(50))})` },
  ];
  const redisRatio = redisCpu.n ? redisCpu.handler / redisCpu.paced : NaN;
  const redisUs = (which: 'raw' | 'paced' | 'handler') => redisCpu[which] / 1000 / redisCpu.n;
  targets.push({
    target: `Redis CPU per handler GET ≤ ${TARGETS.redisCpu}× a plain GET (sequential, in process, plain GETs paced like the handler's; redis-server's on-CPU time)`,
    met: Number.isFinite(redisRatio) ? redisRatio <= TARGETS.redisCpu : null,
    measured: Number.isFinite(redisRatio)
      ? `${fmtRatio(redisRatio)} (${fmtUs(redisUs('handler'))} vs ${fmtUs(redisUs('paced'))} per request over ${redisCpu.n} of each; unpaced plain GETs ${fmtUs(redisUs('raw'))}; a handler GET sends ${perGetText})`
      : 'not measured (no /proc schedstat for redis-server)',
  });

  // --- where a GET's time goes: each stage alone, mean per call
  const n = Math.max(2000, o.iterations);
  const eventText = JSON.stringify(getEvent);
  // As the handlers make theirs (middleware.ts): no early-timeout timer.
  const bare = middy({ timeoutEarlyInMillis: 0 }).handler(async () => ({ statusCode: 200, body: '' }));
  const withLogger = middy({ timeoutEarlyInMillis: 0 }).handler(async () => ({ statusCode: 200, body: '' })).use(injectLambdaContext(logger, { resetKeys: true }));
  const withContextOnly = middy({ timeoutEarlyInMillis: 0 }).handler(async () => ({ statusCode: 200, body: '' })).before((request) => {
    logger.useContext(request.context);
  });
  const checkKey = keySchema(svc.schemaLimits);
  const reply = await raw.get('k:bench:get');
  const pttl = await raw.pttl('k:bench:get');
  const entry = decodeEntry('bench:get', reply!, undefined, undefined, { lazyValue: true });
  const bareAsync = async (_event: unknown, _ctx: unknown) => ({ statusCode: 200, body: '' });
  const stages: [string, string, number][] = [
    ['event', 'JSON.parse of the proxy event (what the Lambda runtime does before the handler)', await meanUs(() => JSON.parse(eventText), n)],
    ['middy', 'a middy handler with no middleware, awaited (routedHandler is middy with two hooks)', await meanUs(() => bare(getEvent, ctx), n)],
    ['plain function', 'a plain async function, awaited (the floor middy is compared with)', await meanUs(() => bareAsync(getEvent, ctx), n)],
    ['logger context (before)', "Powertools injectLambdaContext (resetKeys), over bare middy", (await meanUs(() => withLogger(getEvent, ctx), n)) - (await meanUs(() => bare(getEvent, ctx), n))],
    ['logger context (now)', 'logger.useContext (what routedHandler does: the context is attached only when a line is written), over bare middy', (await meanUs(() => withContextOnly(getEvent, ctx), n)) - (await meanUs(() => bare(getEvent, ctx), n))],
    ['key validation', 'zod key schema safeParse (length, UTF-8 bytes, lone surrogates)', await meanUs(() => checkKey.safeParse('bench:get'), n)],
    ['deadline timer', 'setTimeout + clearTimeout and one promise per request (withDeadline, core/deadline.ts)', await meanUs(() => withDeadline(Promise.resolve(1), 2000), n)],
    ['Redis', "GET on the handler's client (the stored entry carries its expiry: no PTTL)", await meanUs(() => svc.redis.get('k:bench:get'), n)],
    ['decoding (before)', 'header regex, expiry, JSON.parse of the stored value (decodeEntry)', await meanUs(() => decodeEntry('bench:get', reply!, pttl), n)],
    ['decoding (now)', 'header regex, expiry; the value is parsed only if read (what EntryStore.get does)', await meanUs(() => decodeEntry('bench:get', reply!, undefined, undefined, { lazyValue: true }), n)],
    ['JSON', "the answer's JSON with the stored value text spliced in (entryJson), into the proxy result", await meanUs(() => toProxyResult(json(200, entryJson(entry)), 'id'), n)],
    ['whole handler', 'event → proxy result, as in the table above', await meanUs(() => getHandler(getEvent, ctx), n)],
  ];
  const rawMean = await meanUs(() => raw.get('k:bench:get'), n);
  const ownStages = ['middy', 'logger context (now)', 'key validation', 'deadline timer', 'decoding (now)', 'JSON'];
  const gcHandler = gcOf(handlerGetName);
  const gcRaw = gcOf('raw ioredis GET');
  const ownStagesUs = stages.filter(([st]) => ownStages.includes(st)).reduce((sum, [, , us]) => sum + us, 0);
  raw.disconnect();
  return {
    title: '1. In process: the per-request cost the Lambda handler adds',
    method:
      `Sequential requests (one at a time) from this process to a private redis-server on loopback, ${o.iterations} per variant, ` +
      (o.pinned
        ? 'this process and the redis-server pinned to different CPUs as in a deployment, where client and Redis never share one (on one CPU a loopback round trip skips a wake-up, about 20 µs instead of 33, and the scheduler chose differently from run to run); '
        : 'not pinned to CPUs (taskset unavailable or one CPU); ') +
      `interleaved in rounds of ${round}. "handler" = API Gateway proxy event → the route's handler function → Redis → proxy result, ` +
      'exactly what runs in Lambda, minus the network hop from API Gateway: the handler module\'s deployed bundle (lib/bundling.ts), imported into this process and first called with a Lambda function\'s environment, so it makes its own client as a Lambda instance does; the row "from the TypeScript sources" runs the same handler as `npm start` and the tests load it (tsx). Ratios are against the raw ioredis command (p50 vs p50, p99 vs p99). ' +
      'A GET in the handler sends plain read commands (no script; hits and misses are counted in process), so the gap to the raw GET is the handler\'s own work, broken down by stage in the second table ' +
      `(each stage alone, mean of ${n} sequential calls; the Redis stage includes the loopback round trip).`,
    tables: [
      { header: ['op', 'variant', 'n', 'p50', 'p99', 'ratio p50', 'ratio p99'], rows },
      { title: 'GET by stage', header: ['stage', 'what', 'µs per request (mean)'], rows: stages.map(([stage, what, us]) => [stage, what, fmtUs(us)]) },
    ],
    targets,
    notes: [
      ...(ratio.getP50 > TARGETS.getP50 || ratio.getP99 > TARGETS.getP99
        ? [
            `Why the GET targets are missed: on loopback a raw GET's round trip is ${fmtUs(baseline.GET.percentile(50))} at p50, so ${TARGETS.getP50}× leaves ${fmtUs((TARGETS.getP50 - 1) * baseline.GET.percentile(50))} for everything the handler does besides the GET; ` +
              `its stages measured one by one (middy's chain, logger context, key validation, deadline timer, decoding, JSON) add ${fmtUs(ownStagesUs)} of CPU per request, and the whole handler takes ${fmtUs(p(handlerGetName, 50) - baseline.GET.percentile(50))} more than the raw GET at p50; ` +
              'of those stages middy is a fixed choice of the project and the deadline is what turns a silent Redis into a 503 instead of a Lambda timeout. ' +
              `At p99 the handler's ${fmtUs(p(handlerGetName, 99))} is ${fmtRatio(p(handlerGetName, 99) / p(handlerGetName, 50))} its own p50, against ${fmtRatio(baseline.GET.percentile(99) / baseline.GET.percentile(50))} for the raw GET: ` +
              `a longer request is more often caught by garbage-collection work, which grows with what a request allocates (finished collections during the timed rounds, ${gcHandler.perThousand.toFixed(1)} collections per 1,000 handler GETs, ${gcHandler.ms.toFixed(1)} ms in all, against ${gcRaw.perThousand.toFixed(1)} per 1,000 raw GETs, ${gcRaw.ms.toFixed(1)} ms; ` +
              "V8's sampling heap profiler, once by hand on the get-entry bundle, counted about 13 KB allocated per handler GET against about 4 KB per raw GET: middy's request chain about 3 KB, the deadline's timer and promises about 1 KB, the route's request object, entry decoding and answer about 3 KB) or by another process taking the core on this shared machine. " +
              'Against ElastiCache over the network (a round trip of a few hundred µs rather than tens) the same added time is a far smaller share.',
          ]
        : []),
      `Redis CPU per GET: redis-server's on-CPU time (/proc schedstat) over rounds of ${cpuRound} sequential requests per variant, interleaved: the handler's GET, a raw GET, and a raw GET paced like the handler's ` +
        `(the same command after the same pause: a CPU that went idle meets the next command with colder caches). Per request: handler ${fmtUs(redisUs('handler'))}, paced raw GET ${fmtUs(redisUs('paced'))}, unpaced raw GET ${fmtUs(redisUs('raw'))}; ` +
        `INFO commandstats over ${counted} handler GETs: ${perGetText} per request.` +
        (redisRatio > TARGETS.redisCpu
          ? ` The target is missed by a handler GET that is the same single GET as the plain one (same key, same reply): what remains is how Redis's CPU per command moves with the conditions around it — here the pause alone moved it by ${fmtRatio(redisUs('paced') / redisUs('raw'))}.`
          : ''),
      `Beyond Redis (raw GET mean ${fmtUs(rawMean)}), the stages add: ${stages.filter(([st]) => !['Redis', 'whole handler', 'logger context (before)', 'plain function', 'decoding (before)'].includes(st)).map(([st, , us]) => `${st} ${fmtUs(us)}`).join(', ')}.`,
      `The handler's client is made as in Lambda, where auto-pipelining is ${autoPipelined ? 'on' : 'off'}; with it ${autoPipelined ? 'off' : 'on'} (REDIS_AUTO_PIPELINING=${!autoPipelined}) the handler GET takes ${fmtUs(p(flippedName, 50))} at p50 (${fmtRatio(p(flippedName, 50) / baseline.GET.percentile(50))} raw GET). ` +
        'A Lambda instance serves one request at a time, so coalescing commands per tick only delays each one; the local server, with many requests in flight, keeps it on.',
      `SET: the handler adds ${fmtUs(p(handlerSetName, 50) - baseline.SET.percentile(50))} at p50 over a raw SET (body parsing and zod validation, the version/timestamps Lua script, JSON); ` +
        `the write script alone (raw EVALSHA skycacheSet) is ${fmtRatio(p('raw ioredis EVALSHA skycacheSet', 50) / baseline.SET.percentile(50))} a raw SET at p50: an atomic conditional, versioned write with tag indexes is one script, so the SET ratio cannot go below it. ` +
        `The handler's own share over that script is ${fmtUs(p(handlerSetName, 50) - p('raw ioredis EVALSHA skycacheSet', 50))} at p50 (${fmtRatio(p(handlerSetName, 50) / p('raw ioredis EVALSHA skycacheSet', 50))} the script's time).`,
    ],
  };
}
