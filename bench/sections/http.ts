import { leaseKey } from '../../lambdas/core/keyspace';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import Redis from 'ioredis';
import { SERVER_ENTRY, serverBuildOptions } from '../../lib/bundling';
import { withCollectionScripts } from '../../lambdas/domain/collection-scripts';
import { withScripts } from '../../lambdas/domain/scripts';
import { withTopicScripts } from '../../lambdas/domain/topics';
import { freePort } from '../../lambdas/local/redis-process';
import { API_KEY_HEADER, keyDigest } from '../../lambdas/server/api-keys';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtInt, fmtMs, fmtRatio, fmtUs, median } from '../lib/stats';
import { cpuSeconds, treeCpuSeconds } from '../lib/proc';
import { findOrInstall, startChild, waitForHttp, type Child } from '../lib/tools';
import { valueOfSize } from '../samples';

export interface HttpOptions {
  redisUrl: string;
  redisPort: number;
  /** The redis-server's pid, to measure the CPU it spends per request. */
  redisPid?: number;
  connections: number;
  seconds: number;
  rounds: number;
  allowInstall: boolean;
}

interface LoadResult {
  rps: number;
  requests?: number;
  /** CPU time (user + system, all threads) per request of the server process and of redis-server, in µs. */
  serverCpuUs?: number;
  redisCpuUs?: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

const TSX_ARGS = ['--import', 'tsx'];
/** The production server's workers here: one per CPU, as it runs by default. */
const SERVICE_WORKERS = availableParallelism();
const SERVICE = `skycache server, ${SERVICE_WORKERS} workers, x-api-key, GET /cache/{key}`;
const SERVICE_ONE_WORKER = 'skycache server, 1 worker, x-api-key';
/** As Debian's /etc/webdis/webdis.json ships it. */
const WEBDIS_THREADS = 2;

/** Runs `load` and adds the CPU the server (with its child processes) and Redis spent per request meanwhile. */
async function withCpu(serverPid: number | undefined, redisPid: number | undefined, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const s0 = treeCpuSeconds(serverPid);
  const r0 = cpuSeconds(redisPid);
  const result = await load();
  const s1 = treeCpuSeconds(serverPid);
  const r1 = cpuSeconds(redisPid);
  const n = result.requests ?? 0;
  return {
    ...result,
    serverCpuUs: s0 !== undefined && s1 !== undefined && n ? ((s1 - s0) * 1e6) / n : undefined,
    redisCpuUs: r0 !== undefined && r1 !== undefined && n ? ((r1 - r0) * 1e6) / n : undefined,
  };
}

function parseDuration(text: string): number {
  const m = /([\d.]+)(us|ms|s|m)/.exec(text);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : n * 60_000;
}

function run(binary: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolvePromise, reject) =>
    execFile(binary, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
      e ? reject(new Error(`${binary} failed: ${e.message} ${stderr}`)) : resolvePromise(stdout),
    ),
  );
}

/** wrk with one thread and `connections` keep-alive connections, latency percentiles on. */
async function wrk(binary: string, url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadResult> {
  const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  const out = await run(binary, ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '--latency', ...headerArgs, url], (seconds + 30) * 1000);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
  const p = (q: string) => parseDuration(new RegExp(`^\\s+${q}%\\s+(\\S+)`, 'm').exec(out)?.[1] ?? '');
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { rps, requests, p50Ms: p('50'), p99Ms: p('99'), errors };
}

/** redis-benchmark's GET with a 512-byte value, same connection count: the ceiling of the Redis behind everything. */
async function redisBenchmark(binary: string, port: number, connections: number, requests: number): Promise<LoadResult> {
  const out = await run(binary, ['-h', '127.0.0.1', '-p', String(port), '-c', String(connections), '-n', String(requests), '-d', '512', '-t', 'set,get', '--csv'], 120_000);
  const line = out.split('\n').find((l) => l.startsWith('"GET"'));
  if (!line) throw new Error(`unexpected redis-benchmark output: ${out.slice(0, 300)}`);
  const f = line.split(',').map((c) => Number(c.replace(/"/g, '')));
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  // Both tests (SET then GET) ran: 2 × requests.
  return { rps: f[1], requests: 2 * requests, p50Ms: f[4], p99Ms: f[6], errors: 0 };
}

async function startWebdis(binary: string, redisPort: number, dir: string): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const config = join(dir, 'webdis.json');
  writeFileSync(
    config,
    JSON.stringify({
      redis_host: '127.0.0.1',
      redis_port: redisPort,
      redis_auth: null,
      http_host: '127.0.0.1',
      http_port: port,
      threads: WEBDIS_THREADS,
      pool_size: 20,
      daemonize: false,
      database: 0,
      verbosity: 0,
      logfile: join(dir, 'webdis.log'),
    }),
  );
  const { spawn } = await import('node:child_process');
  const proc = spawn(binary, [config], { stdio: 'ignore' });
  const { stopProcess } = await import('../lib/tools');
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/PING`);
  } catch (e) {
    proc.kill('SIGKILL');
    throw e;
  }
  return { child: { process: proc, stop: () => stopProcess(proc) }, url };
}

/**
 * CPU per `client.pipeline()` (what ioredis makes for each auto-pipelined batch) on a client with this service's
 * scripts registered, as services.ts registers them, and on one without.
 */
function pipelineCost(): { withScripts: number; without: number; scripts: number } {
  const scripted = new Redis({ lazyConnect: true });
  withScripts(scripted);
  withCollectionScripts(scripted);
  withTopicScripts(scripted);
  const plain = new Redis({ lazyConnect: true });
  const perPipeline = (client: Redis) => {
    for (let i = 0; i < 500; i++) client.pipeline();
    const start = process.cpuUsage();
    const n = 5000;
    for (let i = 0; i < n; i++) client.pipeline();
    const used = process.cpuUsage(start);
    return (used.user + used.system) / n;
  };
  // Registered scripts are the client's command methods whose name starts with skycache (defineScript keeps them out
  // of ioredis's scriptsSet, which its Pipeline constructor would copy onto every pipeline).
  const scripts = Object.keys(scripted).filter((name) => name.startsWith('skycache') && !name.endsWith('Buffer')).length;
  const result = { withScripts: perPipeline(scripted), without: perPipeline(plain), scripts };
  scripted.disconnect();
  plain.disconnect();
  return result;
}

/**
 * GET of a 512-byte value over HTTP with `connections` keep-alive connections: the local server (the Lambda
 * handlers behind lambdas/local/server.ts), a bare Node http + ioredis server, Webdis, all on the same Redis in
 * the same run, and redis-benchmark as the ceiling. Each HTTP target runs `rounds` times in rotating order; the
 * best round of each is shown (the machine is shared, so the best round is the least disturbed); CPU per request is the
 * median over the rounds, which one disturbed or lucky round moves less.
 */
export async function httpLoad(o: HttpOptions): Promise<SectionResult> {
  const notes: string[] = [];
  const rows: string[][] = [];
  const targets: TargetVerdict[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'skycache-http-'));
  const admin = new Redis(o.redisUrl);
  const value = valueOfSize(512);
  const raw512 = JSON.stringify(value);
  await admin.set('bench:raw512', raw512);
  // The entry as the write script stores it (the current form, which carries its expiry): a read is one GET. An
  // entry in an older form would also ask PTTL, two commands per request.
  // KEYS entry and lease key; ARGV value, ttl, now, condition, tags, index prefix, then grace, lease token, external version.
  await withScripts(admin).skycacheSet('k:bench:http', leaseKey('k:bench:http', false), raw512, 86_400_000, Date.now(), '', '', '_:tag:', 0, '', '');

  const wrkTool = await findOrInstall('wrk', 'wrk', o.allowInstall);
  const webdisTool = await findOrInstall('webdis', 'webdis', o.allowInstall);
  const benchTool = await findOrInstall('redis-benchmark', 'redis-tools', o.allowInstall);
  for (const t of [wrkTool, webdisTool, benchTool]) if (t.problem) notes.push(`MISSING: ${t.problem}.`);

  const results = new Map<string, LoadResult>();
  const env = { ...process.env, REDIS_URL: o.redisUrl, PORT: '0', POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN' };
  const servers: { name: string; url?: string; pid?: number; stop?: () => Promise<void>; headers?: Record<string, string> }[] = [];
  // The production server runs as deployed: its workers, and an API key on every request.
  const apiKey = randomUUID();
  const serviceEnv = { ...env, API_KEY_HASHES: keyDigest(apiKey), ACCESS_LOG_SAMPLE_RATE: '0.01' };
  const withKey = { [API_KEY_HEADER]: apiKey };
  try {
    if (benchTool.path) {
      try {
        results.set('redis-benchmark GET (ceiling, no HTTP)', await withCpu(undefined, o.redisPid, () => redisBenchmark(benchTool.path!, o.redisPort, o.connections, Math.max(100_000, o.seconds * 50_000))));
      } catch (e) {
        notes.push(`redis-benchmark failed: ${(e as Error).message}`);
      }
    }
    if (wrkTool.path) {
      const local = await startChild(process.execPath, [...TSX_ARGS, resolve(__dirname, '../servers/local.ts')], env);
      servers.push({ name: 'skycache local server GET /cache/{key}', url: `${local.firstLine}/cache/bench:http`, pid: local.child.process.pid, stop: local.child.stop });
      const flippedOn = process.env.REDIS_AUTO_PIPELINING === 'false';
      const flipped = await startChild(process.execPath, [...TSX_ARGS, resolve(__dirname, '../servers/local.ts')], { ...env, REDIS_AUTO_PIPELINING: String(flippedOn) });
      servers.push({ name: `skycache local server, auto-pipelining ${flippedOn ? 'on' : 'off'}`, url: `${flipped.firstLine}/cache/bench:http`, pid: flipped.child.process.pid, stop: flipped.child.stop });
      // The production server as its container runs it: the esbuild bundle of lib/bundling.ts (the Dockerfile's
      // build stage), not the TypeScript sources through tsx, whose keepNames wrappers cost CPU on every request.
      const serverBundle = join(dir, 'server.mjs');
      await build(serverBuildOptions(resolve(__dirname, '../../', SERVER_ENTRY), serverBundle));
      for (const [name, workers] of [[SERVICE, String(SERVICE_WORKERS)], [SERVICE_ONE_WORKER, '1']] as const) {
        const service = await startChild(process.execPath, [serverBundle], { ...serviceEnv, WORKERS: workers });
        const url = /listening on (\S+)/.exec(service.firstLine)?.[1];
        servers.push({ name, url: `${url}/cache/bench:http`, pid: service.child.process.pid, stop: service.child.stop, headers: withKey });
      }
      const bare = await startChild(process.execPath, [...TSX_ARGS, resolve(__dirname, '../servers/bare.ts')], env);
      servers.push({ name: 'bare Node http + ioredis GET', url: `${bare.firstLine}/bench:raw512`, pid: bare.child.process.pid, stop: bare.child.stop });
      if (webdisTool.path) {
        try {
          const webdis = await startWebdis(webdisTool.path, o.redisPort, dir);
          servers.push({ name: 'Webdis GET /GET/{key}', url: `${webdis.url}/GET/bench:raw512`, pid: webdis.child.process.pid, stop: webdis.child.stop });
        } catch (e) {
          notes.push(`MISSING: Webdis would not start: ${(e as Error).message}`);
        }
      }
      for (const s of servers) {
        const r = await fetch(s.url!, { headers: s.headers });
        const text = await r.text();
        if (r.status !== 200 || !text.includes(value.data)) throw new Error(`${s.name} answered ${r.status}: ${text.slice(0, 200)}`);
        await wrk(wrkTool.path, s.url!, o.connections, 1, s.headers); // warm-up: JIT, connection pools
      }
      // CPU per request of every round, per server: the table shows the median, steadier than the best round's.
      const cpuRounds = new Map<string, { server: number[]; redis: number[] }>();
      for (let round = 0; round < o.rounds; round++) {
        const order = servers.map((_, i) => servers[(i + round) % servers.length]);
        for (const s of order) {
          const r = await withCpu(s.pid, o.redisPid, () => wrk(wrkTool.path!, s.url!, o.connections, o.seconds, s.headers));
          const best = results.get(s.name);
          if (!best || r.rps > best.rps) results.set(s.name, r);
          const cpu = cpuRounds.get(s.name) ?? { server: [], redis: [] };
          if (r.serverCpuUs !== undefined) cpu.server.push(r.serverCpuUs);
          if (r.redisCpuUs !== undefined) cpu.redis.push(r.redisCpuUs);
          cpuRounds.set(s.name, cpu);
        }
      }
      for (const [name, cpu] of cpuRounds) {
        const r = results.get(name)!;
        results.set(name, { ...r, serverCpuUs: (cpu.server.length ? median(cpu.server) : r.serverCpuUs), redisCpuUs: (cpu.redis.length ? median(cpu.redis) : r.redisCpuUs) });
      }
    }
  } finally {
    for (const s of servers) await s.stop?.();
    admin.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }

  const bare = results.get('bare Node http + ioredis GET');
  const webdis = results.get('Webdis GET /GET/{key}');
  const local = results.get('skycache local server GET /cache/{key}');
  const ceiling = results.get('redis-benchmark GET (ceiling, no HTTP)');
  for (const [name, r] of results) {
    rows.push([
      name,
      fmtInt(r.rps),
      r.serverCpuUs !== undefined ? fmtUs(r.serverCpuUs) : 'n/a',
      r.serverCpuUs ? fmtInt(1e6 / r.serverCpuUs) : 'n/a',
      r.redisCpuUs !== undefined ? fmtUs(r.redisCpuUs) : 'n/a',
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      webdis ? fmtRatio(r.rps / webdis.rps) : 'n/a',
      bare ? fmtRatio(r.rps / bare.rps) : 'n/a',
      ceiling ? fmtRatio(r.rps / ceiling.rps) : 'n/a',
      String(r.errors),
    ]);
  }
  // Extra information beside section 1's target (measured there sequentially): under wrk, Redis's CPU per command
  // depends on how many commands arrive per read syscall, so only servers with the same client settings compare.
  const unpipelined = results.get('skycache local server, auto-pipelining off');
  if (unpipelined?.redisCpuUs && bare?.redisCpuUs) {
    notes.push(
      `Redis CPU per request under wrk, same client settings (ioredis, no auto-pipelining): the local server's GET ${fmtUs(unpipelined.redisCpuUs)} against the bare Node server's ${fmtUs(bare.redisCpuUs)} (${fmtRatio(unpipelined.redisCpuUs / bare.redisCpuUs)}), ` +
        `at ${fmtInt(unpipelined.rps)} and ${fmtInt(bare.rps)} req/s: the faster server delivers more commands per read syscall, and Redis's CPU per command falls with that, so this ratio mixes both servers' speeds; the target is measured in section 1, one request at a time for both.`,
    );
  }
  targets.push({
    target: 'local server throughput ≥ Webdis (GET, 512 B, 50 connections)',
    met: local && webdis ? local.rps >= webdis.rps : null,
    measured: local && webdis ? `${fmtInt(local.rps)} vs ${fmtInt(webdis.rps)} req/s (${fmtRatio(local.rps / webdis.rps)})` : 'Webdis or wrk missing',
  });
  const service = results.get(SERVICE);
  const serviceOne = results.get(SERVICE_ONE_WORKER);
  targets.push({
    target: `production server CPU per request ≤ 1.25× the bare Node server's (GET, 512 B, ${SERVICE_WORKERS} workers and primary together)`,
    met: service?.serverCpuUs && bare?.serverCpuUs ? service.serverCpuUs <= 1.25 * bare.serverCpuUs : null,
    measured:
      service?.serverCpuUs && bare?.serverCpuUs
        ? `${fmtUs(service.serverCpuUs)} vs ${fmtUs(bare.serverCpuUs)} (${fmtRatio(service.serverCpuUs / bare.serverCpuUs)}; 1 worker: ${serviceOne?.serverCpuUs ? fmtRatio(serviceOne.serverCpuUs / bare.serverCpuUs) : 'n/a'})`
        : 'not measured (wrk missing or no /proc)',
  });
  targets.push({
    target: `production server throughput (${SERVICE_WORKERS} workers) ≥ Webdis (GET, 512 B, ${o.connections} connections)`,
    met: service && webdis ? service.rps >= webdis.rps : null,
    measured:
      service && webdis
        ? `${fmtInt(service.rps)} vs ${fmtInt(webdis.rps)} req/s (${fmtRatio(service.rps / webdis.rps)}); p50 ${fmtMs(service.p50Ms)} vs ${fmtMs(webdis.p50Ms)}, p99 ${fmtMs(service.p99Ms)} vs ${fmtMs(webdis.p99Ms)}`
        : 'Webdis or wrk missing',
  });
  if (service && bare?.serverCpuUs && service.serverCpuUs) {
    const pipelines = pipelineCost();
    notes.push(
      `The production server (lambdas/server/, run from its bundle as the container runs it; ${SERVICE_WORKERS} workers, every request with an x-api-key checked, access log sampled at 1%, request metrics counted) spends ${fmtUs(service.serverCpuUs)} of CPU per request over its primary and workers, ` +
        `${fmtRatio(service.serverCpuUs / bare.serverCpuUs)} the bare Node server's ${fmtUs(bare.serverCpuUs)}; with one worker ${serviceOne?.serverCpuUs ? fmtUs(serviceOne.serverCpuUs) : 'n/a'}. ` +
        'On 2 cores its workers share the CPU with wrk and Redis, so its throughput is bounded by CPU per request, not by the number of workers.',
    );
    if (service.serverCpuUs > 1.25 * bare.serverCpuUs) {
      notes.push(
        `Why the server's CPU target is missed: the bare server parses the request and forwards one GET's reply; the production server also generates a request id, checks the API key, matches the route table, validates the key with its zod schema, bounds the wait with a deadline timer, decodes the entry's header and answers JSON with version, ttl, timestamps and an ETag (four headers against two), and counts the request. ` +
          'Profiled once by hand (node --cpu-prof on the unminified server bundle, 1 worker, about 170,000 requests under wrk), per request: writing the response (writeHead + end, one writev, as the bare server does) 16.6 µs; ' +
          "HTTP parsing and the request listener 9.3 µs, of which the API key's SHA-256 2.5 µs (issue 12 asks for keys held only as hashes), the route match 1.9 µs and the request id 0.5 µs; " +
          'the route operation 5.9 µs, of which queueing its GET into an auto-pipeline 2.2 µs; sending the pipelines 3.1 µs; garbage collection 4.8 µs. ' +
          `Its Redis client auto-pipelines (Redis spends ${service.redisCpuUs !== undefined ? fmtUs(service.redisCpuUs) : 'n/a'} per request against the bare server's ${bare.redisCpuUs !== undefined ? fmtUs(bare.redisCpuUs) : 'n/a'}): one pipeline per batch of commands in a tick, ` +
          `measured here at ${fmtUs(pipelines.withScripts)} of CPU per pipeline with this service's ${pipelines.scripts} scripts registered and ${fmtUs(pipelines.without)} with none (ioredis copied every registered script onto each pipeline, 24 µs per pipeline, until defineScript served them from Pipeline.prototype).`,
      );
    }
  }
  if (webdis && bare && [service, local].some((r) => r && r.rps < webdis.rps)) {
    notes.push(
      `Why the throughput targets are missed: in the same run the bare Node http + ioredis server — a floor no route code can go below — reaches ${fmtRatio(bare.rps / webdis.rps)} Webdis's requests per second (${fmtInt(bare.rps)} vs ${fmtInt(webdis.rps)}), ` +
        `the production server ${service ? fmtRatio(service.rps / bare.rps) : 'n/a'} and the local server ${local ? fmtRatio(local.rps / bare.rps) : 'n/a'} the bare server's. Webdis is C with ${WEBDIS_THREADS} threads (Debian's default configuration) and answers a Redis reply as-is; on this 2-core machine wrk, Redis and the server's workers compete for the same cores, so requests per second follow CPU per request.`,
    );
  }
  if (local?.serverCpuUs && webdis?.serverCpuUs) {
    notes.push(
      `CPU per request, which the machine's other load does not distort: the local server spends ${fmtUs(local.serverCpuUs)} of CPU per request, Webdis ${fmtUs(webdis.serverCpuUs)} (all its threads), ` +
        `the bare Node server ${bare?.serverCpuUs ? fmtUs(bare.serverCpuUs) : 'n/a'}. Redis spends ${local.redisCpuUs !== undefined ? fmtUs(local.redisCpuUs) : 'n/a'} per local-server request (plain read commands, auto-pipelined) ` +
        `against ${webdis.redisCpuUs !== undefined ? fmtUs(webdis.redisCpuUs) : 'n/a'} per Webdis request (a plain GET).`,
    );
  }
  if (local && bare) {
    notes.push(
      `Our own overhead: the local server serves ${fmtRatio(local.rps / bare.rps)} the requests per second of a bare Node http + ioredis server on the same Redis. ` +
        'Per request it builds the API Gateway proxy event, runs the Lambda handler (Powertools logger context, key validation, deadline timer), ' +
        'counts the hit in memory, reads the entry with plain read commands, decodes it and answers JSON with version, ttl and timestamps.',
    );
  }
  return {
    title: '2. Local HTTP server: throughput and latency, GET of a 512-byte value',
    method:
      `wrk (1 thread, ${o.connections} keep-alive connections, ${o.seconds} s per run, ${o.rounds} round(s) in rotating order; requests per second and latencies from the best round, CPU per request the median of the rounds) against each server, ` +
      'all on the same private redis-server in this run; each server runs in its own process (the production server from its esbuild bundle, lib/bundling.ts, as its container runs it). redis-benchmark (same connection count, 512-byte values, no HTTP) is the ceiling. ' +
      'CPU per request is the user + system time of the server process (all threads) and of redis-server during the run, from /proc, over the requests served — a figure the machine\'s other load barely moves. ' +
      'Ratios are requests per second against Webdis, against the bare Node server and against redis-benchmark. The load generator, the server and Redis share this machine\'s cores.',
    tables: [{ header: ['target', 'req/s', 'server CPU/req', 'req/s per server CPU-second', 'Redis CPU/req', 'p50', 'p99', 'vs Webdis', 'vs bare Node', 'vs redis-benchmark', 'errors'], rows }],
    targets,
    notes,
  };
}
