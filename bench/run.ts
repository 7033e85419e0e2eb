/**
 * `npm run bench [-- options]`: measures the cost of every request against the best alternatives and writes
 * docs/benchmarks.md. Starts its own redis-server processes on free loopback ports (never the one on 6379).
 *
 *   --quick              small sizes and short runs (about a minute); does not write docs unless --write
 *   --only=1,3           run only these sections (1 in process, 2 HTTP, 3 cold start, 4 round trips, 5 invalidation, 6 pub/sub,
 *                        7 the TypeScript client's overhead against a bare fetch)
 *   --pubsub-messages=N  messages whose publish → receive latency is measured per subscriber kind (BENCH_PUBSUB_MESSAGES)
 *   --iterations=N       sequential operations per in-process variant (BENCH_ITERATIONS)
 *   --seconds=N          seconds per HTTP load run (BENCH_HTTP_SECONDS)
 *   --rounds=N           HTTP load rounds per target (BENCH_HTTP_ROUNDS)
 *   --connections=N      HTTP connections (BENCH_HTTP_CONNECTIONS, default 50)
 *   --sizes=100000,1000000   prefix invalidation sizes (BENCH_INVALIDATION_SIZES)
 *   --cold-runs=N        fresh processes per handler for the cold start (BENCH_COLD_RUNS)
 *   --no-install         do not apt-get install missing tools (wrk, webdis, redis-tools)
 *   --write / --no-write write docs/benchmarks.md or not
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { resolve } from 'node:path';
import { startRedisProcess } from '../lambdas/local/redis-process';
import { closeServices } from '../lambdas/services';
import { markdownTable, targetsTable, textTable, type SectionResult, type TargetVerdict } from './lib/report';
import { clientOverhead } from './sections/client';
import { coldStart } from './sections/coldstart';
import { httpLoad } from './sections/http';
import { inProcess } from './sections/inprocess';
import { invalidation } from './sections/invalidation';
import { pubsub } from './sections/pubsub';
import { roundTrips } from './sections/roundtrips';
import { onSeparateCpus } from './lib/proc';

// Handlers log at WARN and above while measured: no log line per request, as in a quiet production function.
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
// Hits and misses are counted in process as in Lambda (HIT_COUNTS=metrics); the once-a-minute EMF line is not
// printed into the bench's output, and no counter write falls into a measured request.
process.env.HIT_COUNTS ??= 'metrics';
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}
const has = (name: string) => process.argv.includes(`--${name}`);
const num = (name: string, env: string, full: number, quick: number) => Number(flag(name) ?? process.env[env] ?? (quick_ ? quick : full));
const quick_ = has('quick');

const settings = {
  quick: quick_,
  sections: new Set((flag('only') ?? '1,2,3,4,5,6,7').split(',').map(Number)),
  pubsubMessages: num('pubsub-messages', 'BENCH_PUBSUB_MESSAGES', 1000, 200),
  iterations: num('iterations', 'BENCH_ITERATIONS', 20_000, 3_000),
  seconds: num('seconds', 'BENCH_HTTP_SECONDS', 5, 3),
  rounds: num('rounds', 'BENCH_HTTP_ROUNDS', 5, 1),
  connections: num('connections', 'BENCH_HTTP_CONNECTIONS', 50, 50),
  coldRuns: num('cold-runs', 'BENCH_COLD_RUNS', 5, 2),
  sizes: (flag('sizes') ?? process.env.BENCH_INVALIDATION_SIZES ?? (quick_ ? '20000' : '100000,1000000')).split(',').map(Number),
  allowInstall: !has('no-install'),
  write: has('write') || (!quick_ && !has('no-write')),
};

/** Changes made to the code because of these measurements (see git log), newest last. */
const TUNING = [
  'zod imported as a namespace (`import * as z`) so esbuild tree-shakes it: every handler bundle went from 691 KB to 322 KB (measured before the data-structure routes were merged; they add 13–28 KB).',
  'Each zod schema (key, request bodies) is built once per limits object instead of per request: handler GET p50 85 → 44 µs, SET 219 → 52 µs (in process).',
  "Auto-pipelining off for the Redis client inside Lambda (one request at a time per instance, so batching per tick only delays each command), on for the local server: handler GET p50 about 45 → 37 µs.",
  'The local server skips the request-body stream for requests without a body (GET, DELETE): about 2–3 µs of server CPU per request less.',
  "middy's early timeout is off (withDeadline already answers 503 before the Lambda timeout, and middy's TimeoutError would have been a 500): one timer and promise less per request.",
  'Reads write nothing (issue 11): hits and misses are counted in process and published in bulk (EMF once a minute, or one MULTI a second), and an entry carries its absolute expiry, so GET /cache/{key} is one plain GET at Redis (was EVALSHA running GET + HINCRBY + PTTL), batch get a read-only script, and every read route can be served by a replica.',
  "The logger context is set with logger.addContext in a before hook instead of Powertools' injectLambdaContext (which also resets keys and sampling per request): about 16 µs → 0.7 µs per request (section 1, \"GET by stage\").",
  'Bundles (issue 11): schemas on zod/mini instead of classic zod (zod 93 → 25–28 KB per bundle), each handler bundle carrying only its own route family (its routes, store and Lua scripts: skycache code 81–85 → 26–51 KB), ioredis\'s debug tracing replaced by a no-op (10 KB): 403–408 KB → 272–299 KB (section 3).',
  'Issue 12, production server: each route\'s operation is called directly (runOperation), without building a proxy event or running middy per request; the API key check hashes with one-shot crypto.hash (about half the CPU of createHash); an entry read answers with its stored value text spliced in (entryJson) and reuses the ISO text of recent timestamps, together about half the CPU of decoding and serializing an entry (micro-benchmark).',
  'The Lambda handler stays middy (a fixed choice of the project; its chain costs about 2 µs per request, bench section 1, "middy" against "plain function"); the Redis deadline is one promise instead of an async function with Promise.race; no await once the services are built and Redis is ready; store.run skips the MOVED-retry layers outside cluster mode; an entry read parses its stored value only if something reads it (the answer splices the stored text). Handler GET CPU in process (deployed bundle, interleaved rounds, median): 27.1 → 23.5 µs and, under heavier machine load, 38.3 → 31.7 µs, against 13.9 and 18.6 µs for a raw GET: the handler\'s own share down by about a third.',
  'Production server: path segments without escapes are not percent-decoded, and the read and deadline changes above. CPU per request, 1 worker, bundle, alternating wrk rounds (median of 10): 59.6 → 49.6 µs and 71.0 → 61.1 µs, against 24.6 and 27.7 µs for the bare Node server, measured with valid API keys remembered after their first match; that cache was taken out again, because issue 12 asks for keys held only as hashes and compared in constant time (the SHA-256 per request is about a tenth of the request\'s CPU).',
  'Bench: section 2 stored its entry in the first form, so every read sent GET + PTTL; it now stores what the write script stores (one GET per read), and runs the production server from its bundle (what the container runs) instead of the TypeScript sources through tsx. Redis CPU per GET is measured one request at a time in section 1 against plain GETs paced like the handler\'s (the wrk-based comparison mixed two servers running at different rates).',
  "Scripts no longer copied onto every ioredis pipeline (defineScript, lambdas/core/redis.ts): ioredis's Pipeline constructor copied each of the client's 29 script commands onto every pipeline, and with auto-pipelining (the servers) a pipeline is built per batch of commands: 24 µs → 5 µs of CPU per pipeline (micro-benchmark: 50,000 client.pipeline() calls with and without the scripts registered).",
  "The logger context goes onto a log line only when one is written (ServiceLogger.useContext): Powertools' addContext read the environment on every request (its per-invocation store), about 2 µs of the handler's CPU per request in a profile of the deployed get-entry bundle (1.9 µs self time under addContext over 42,000 handler GETs).",
  'Section 1 times the handlers from their deployed bundles (lib/bundling.ts), imported in process with a Lambda environment; before, it ran the TypeScript sources through tsx, whose keep-names helper (`__name`) runs for every closure a request creates. The sources stay as a reference row.',
];

function machine(): string[] {
  const cpu = cpus();
  let redis = 'redis-server not found';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    // reported as missing
  }
  return [
    `Date: ${new Date().toISOString()}`,
    `Machine: ${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${osType()} ${release()}`,
    `Node ${process.version}; ${redis}`,
    `Run: ${settings.quick ? 'quick' : 'full'} — in-process ${settings.iterations} ops/variant; HTTP ${settings.connections} connections × ${settings.seconds} s × ${settings.rounds} round(s); cold start ${settings.coldRuns} processes/handler; invalidation sizes ${settings.sizes.join(', ')}`,
  ];
}

function printSection(s: SectionResult): void {
  console.log(`\n=== ${s.title} ===`);
  for (const t of s.tables) console.log(textTable(t));
  for (const v of s.targets) console.log(`  target: ${v.target} — ${v.measured} — ${v.met === null ? 'NOT MEASURED' : v.met ? 'met' : 'MISSED'}`);
  for (const n of s.notes) console.log(`  note: ${n}`);
}

function markdown(results: SectionResult[], failures: string[], info: string[]): string {
  const targets: TargetVerdict[] = results.flatMap((r) => r.targets);
  const parts = [
    '# Benchmarks',
    '',
    '_Written by `npm run bench` (bench/run.ts); do not edit by hand. Rerun with `npm run bench` (full, a few minutes) or `npm run bench -- --quick` (about a minute; add `--write` to update this file). ' +
      'Needs redis-server; wrk, webdis and redis-benchmark (Debian packages wrk, webdis, redis-tools) are installed by the bench when it runs as root, or reported missing._',
    '',
    ...info.map((l) => `- ${l}`),
    '',
    'The machine is shared (2 cores, other builds may run at the same time), so absolute figures move between runs; the ratios come from variants measured side by side in the same run. ' +
      'Sequential loopback latencies (section 1) differ most: a raw GET p50 measured about 20 µs while other jobs kept the cores busy and about 70 µs on an idle machine (likely CPU idle-state wake-ups between requests). ' +
      'The CPU-per-request figures of section 2 are the steadiest comparison of the HTTP servers.',
    '',
    '## Tuning done so far',
    '',
    ...TUNING.map((t) => `- ${t}`),
    '',
    '## Targets',
    '',
    markdownTable(targetsTable(targets)),
    '',
    ...failures.map((f) => `**Section failed:** ${f}\n`),
  ];
  for (const r of results) {
    parts.push(`## ${r.title}`, '', r.method, '');
    for (const t of r.tables) parts.push(markdownTable(t), '');
    for (const n of r.notes) parts.push(`- ${n}`);
    if (r.notes.length) parts.push('');
  }
  return parts.join('\n');
}

async function main(): Promise<void> {
  const info = machine();
  console.log(info.join('\n'));
  const results: SectionResult[] = [];
  const failures: string[] = [];
  const redis = await startRedisProcess();
  const section = async (n: number, name: string, run: () => Promise<SectionResult>) => {
    if (!settings.sections.has(n)) return;
    console.log(`\n… ${name}`);
    try {
      const r = await run();
      results.push(r);
      printSection(r);
    } catch (e) {
      failures.push(`${n}. ${name}: ${(e as Error).message}`);
      console.error(`section ${n} (${name}) failed: ${(e as Error).stack}`);
    } finally {
      await closeServices();
    }
  };
  try {
    await section(1, 'in process: handler vs raw ioredis', () =>
      onSeparateCpus(redis.process.pid, (pinned) => inProcess({ redisUrl: redis.url, redisPid: redis.process.pid, iterations: settings.iterations, maxSeconds: 120, pinned })),
    );
    await section(2, 'HTTP: local server vs bare Node vs Webdis vs redis-benchmark', () =>
      httpLoad({ redisUrl: redis.url, redisPort: redis.port, redisPid: redis.process.pid, connections: settings.connections, seconds: settings.seconds, rounds: settings.rounds, allowInstall: settings.allowInstall }),
    );
    await section(3, 'cold start: bundles, import, first request', () => coldStart(redis.url, settings.coldRuns));
    await section(4, 'round trips per route', () => roundTrips(redis.url));
    await section(5, 'prefix invalidation', () => invalidation({ sizes: settings.sizes, othersFraction: 0.1 }));
    await section(6, 'pub/sub latency and throughput', () =>
      pubsub({ redisUrl: redis.url, messages: settings.pubsubMessages, seconds: settings.seconds, publishers: 8 }),
    );
    await section(7, 'the TypeScript client against a bare fetch', () => clientOverhead({ redisUrl: redis.url, iterations: settings.iterations }));
  } finally {
    await redis.stop();
  }
  const targets = results.flatMap((r) => r.targets);
  console.log('\n=== Targets ===');
  console.log(textTable(targetsTable(targets)));
  for (const f of failures) console.log(`FAILED: ${f}`);
  if (settings.write) {
    const file = resolve(__dirname, '../docs/benchmarks.md');
    writeFileSync(file, markdown(results, failures, info));
    console.log(`\nwrote ${file}`);
  } else {
    console.log('\ndocs/benchmarks.md not written (quick run; add --write)');
  }
  // Section 1's handler bundles keep clients of their own (a Lambda instance never closes its client), which would
  // go on reconnecting to the stopped redis-server.
  process.exit(failures.length ? 1 : 0);
}

main().catch((e: Error) => {
  console.error(`bench failed: ${e.stack}`);
  process.exit(1);
});
