import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { SkycacheClient } from '../../client/src/index.js';
import { freePort } from '../../lambdas/local/redis-process';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtInt, fmtUs, Samples, sleep } from '../lib/stats';
import { stopProcess } from '../lib/tools';

const ROOT = resolve(__dirname, '../..');
/** Calls per variant per round; the variants take turns round after round, so drift hits them alike. */
const ROUND = 250;

interface Variant {
  name: string;
  /** The bare fetch it is compared with (none for the baselines themselves). */
  against?: string;
  call: () => Promise<unknown>;
}

/**
 * The client's overhead per call (issue 13): the same requests sent sequentially by the typed client and by a
 * bare `fetch` + `JSON.parse`, against one `npm start` process (one worker) on the bench's Redis, in the same run.
 * Reported per variant: latency p50/p99 and the bench process's own CPU per call (process.cpuUsage: the client's
 * work and Node's HTTP client, not the server's), and the client's difference from its bare counterpart.
 */
export async function clientOverhead(options: { redisUrl: string; iterations: number }): Promise<SectionResult> {
  const port = await freePort();
  const server = spawn(process.execPath, ['--import', 'tsx', 'lambdas/local/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, REDIS_URL: options.redisUrl, PORT: String(port), WORKERS: '1', POWERTOOLS_LOG_LEVEL: 'WARN', ACCESS_LOG_SAMPLE_RATE: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  try {
    for (let waited = 0; !/listening on \S+/.test(output); waited += 50) {
      if (waited > 60_000 || server.exitCode !== null) throw new Error(`npm start did not listen: ${output.slice(-500)}`);
      await sleep(50);
    }
    const base = `http://127.0.0.1:${port}`;
    const client = new SkycacheClient({ baseUrl: base });
    const near = new SkycacheClient({ baseUrl: base, nearCache: { maxEntries: 100 } });
    const value = { name: 'bench', tags: ['a', 'b'], n: 42, text: 'x'.repeat(200) };
    await client.set('bench:client', value, { ttl: 3600 });
    const bareJson = async (url: string, headers?: Record<string, string>) => {
      const response = await fetch(url, { headers: { accept: 'application/json', ...headers } });
      const text = await response.text();
      return text ? JSON.parse(text) : undefined;
    };
    const etag = `"${(await client.get('bench:client'))!.version}"`;
    const variants: Variant[] = [
      { name: 'bare fetch GET /cache?key=', call: () => bareJson(`${base}/cache?key=bench%3Aclient`) },
      { name: 'client.get', against: 'bare fetch GET /cache?key=', call: () => client.get('bench:client') },
      { name: 'bare fetch GET ?lease=', call: () => bareJson(`${base}/cache?key=bench%3Aclient&lease=10000`) },
      { name: 'client.getOrSet (hit)', against: 'bare fetch GET ?lease=', call: () => client.getOrSet('bench:client', async () => value) },
      { name: 'bare fetch If-None-Match (304)', call: () => bareJson(`${base}/cache?key=bench%3Aclient`, { 'if-none-match': etag }) },
      { name: 'client.get, near cache (304)', against: 'bare fetch If-None-Match (304)', call: () => near.get('bench:client') },
    ];
    const latency = new Map(variants.map((v) => [v.name, new Samples()]));
    const cpu = new Map(variants.map((v) => [v.name, 0]));
    for (const v of variants) for (let i = 0; i < 50; i++) await v.call(); // warm up: connections, JIT, scripts
    const rounds = Math.max(1, Math.ceil(options.iterations / ROUND));
    for (let r = 0; r < rounds; r++) {
      for (const v of variants) {
        const samples = latency.get(v.name)!;
        const before = process.cpuUsage();
        for (let i = 0; i < ROUND; i++) {
          const start = process.hrtime.bigint();
          await v.call();
          samples.add(Number(process.hrtime.bigint() - start) / 1000);
        }
        const used = process.cpuUsage(before);
        cpu.set(v.name, cpu.get(v.name)! + used.user + used.system);
      }
    }
    const calls = rounds * ROUND;
    const cpuPerCall = (name: string) => cpu.get(name)! / calls;
    const rows = variants.map((v) => {
      const s = latency.get(v.name)!;
      const overhead = v.against
        ? `${fmtUs(s.percentile(50) - latency.get(v.against)!.percentile(50))} p50, ${fmtUs(cpuPerCall(v.name) - cpuPerCall(v.against))} CPU`
        : 'baseline';
      return [v.name, fmtInt(calls), fmtUs(s.percentile(50)), fmtUs(s.percentile(99)), fmtUs(cpuPerCall(v.name)), overhead];
    });
    const getOverhead = cpuPerCall('client.get') - cpuPerCall('bare fetch GET /cache?key=');
    const targets: TargetVerdict[] = [
      {
        target: 'the client adds little to a bare fetch per call (client CPU, same run)',
        met: null,
        measured: `client.get ${fmtUs(getOverhead)} of client CPU per call over a bare fetch + JSON.parse (${fmtUs(cpuPerCall('bare fetch GET /cache?key='))} → ${fmtUs(cpuPerCall('client.get'))})`,
      },
    ];
    return {
      title: '7. The TypeScript client: overhead per call against a bare fetch',
      method:
        'One `npm start` process (lambdas/local/main.ts, one worker) on the bench\'s Redis; in the bench process, each variant sends its request sequentially, ' +
        `${ROUND} calls at a time, the variants taking turns for ${rounds} round(s) (${fmtInt(calls)} calls each), after 50 unmeasured calls. ` +
        'A bare variant is `fetch` + `response.text()` + `JSON.parse` of the same URL and headers; the client variant is the typed call (URL building, headers, retry loop, ' +
        'error mapping, per-call AbortSignal.timeout, near cache). CPU is the bench process\'s own (process.cpuUsage, user + system) divided by the calls: the client\'s ' +
        'work plus Node\'s HTTP client, never the server\'s. Overhead = client minus its bare counterpart.',
      tables: [{ header: ['variant', 'calls', 'p50', 'p99', 'client CPU / call', 'overhead vs bare fetch'], rows }],
      targets,
      notes: [
        'getOrSet on a hit is one lease read (a script on the primary instead of a GET) plus the in-process single-flight bookkeeping; its bare counterpart sends the same lease read.',
        'The near-cache variant revalidates with If-None-Match and answers from memory on the 304: the value neither crosses the network nor is parsed.',
      ],
    };
  } finally {
    await stopProcess(server);
  }
}
