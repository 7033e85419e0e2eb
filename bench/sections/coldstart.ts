import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { handlerBuildOptions, handlerBundling, preparedIoredis } from '../../lib/bundling';
import { handlerModules, routes } from '../../lambdas/routes';
import { lambdaContext, proxyEvent } from '../lib/events';
import { callRoute, closeServices, useRedisForHandlers } from '../lib/handlers';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtKb, fmtMs, median } from '../lib/stats';
import { samples } from '../samples';
import Redis from 'ioredis';

const MAX_BUNDLE_BYTES = 250 * 1024;
const MAX_IMPORT_MS = 50;

/**
 * Runs in a fresh `node`: import the bundle, serve one request (when given an EVENT), print the timings as JSON.
 * importCpuMs is the CPU time the import took (user + system), which other jobs on the machine barely move.
 */
const CHILD = `
const c0 = process.cpuUsage();
const t0 = performance.now();
const mod = await import(process.env.BUNDLE_URL);
const t1 = performance.now();
const cpu = process.cpuUsage(c0);
const result = process.env.EVENT ? await mod.handler(JSON.parse(process.env.EVENT), JSON.parse(process.env.CONTEXT)) : {};
const t2 = performance.now();
console.log(JSON.stringify({ boot: t0, importMs: t1 - t0, importCpuMs: (cpu.user + cpu.system) / 1000, firstMs: t2 - t1, total: t2, status: result.statusCode }));
process.exit(0);
`;

interface ChildTimings {
  boot: number;
  importMs: number;
  importCpuMs: number;
  firstMs: number;
  total: number;
  status: number;
}

/** ioredis alone, bundled with the same settings: the import a handler's cannot go below. */
const IOREDIS_ALONE = "import Redis from 'ioredis';\nexport default Redis;\n";

function runChild(env: NodeJS.ProcessEnv): Promise<ChildTimings> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolvePromise(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}


/**
 * Bundles each handler module with the deploy settings (lib/bundling.ts) into a temporary folder, then in fresh
 * Node processes times the import of the bundle and its first request against Redis.
 */
export async function coldStart(redisUrl: string, runs: number): Promise<SectionResult> {
  const dir = mkdtempSync(join(tmpdir(), 'skycache-bundles-'));
  const admin = new Redis(redisUrl);
  useRedisForHandlers(redisUrl);
  const call = callRoute(lambdaContext());
  const rows: string[][] = [];
  const measured: { module: string; bytes: number; importMs: number; importCpuMs: number }[] = [];
  const measuredParts = new Map<string, Map<string, number>>();
  const notes: string[] = [];
  let ioredisAlone: { bytes: number; importMs: number; importCpuMs: number } | undefined;
  try {
    for (const module of handlerModules()) {
      const outfile = join(dir, `${module}${handlerBundling.outExtension}`);
      const built = await build(handlerBuildOptions(resolve(__dirname, '../../lambdas/handlers', `${module}.ts`), outfile));
      const bytes = statSync(outfile).size;
      const gz = gzipSync(readFileSync(outfile)).length;
      const mapBytes = statSync(`${outfile}.map`).size;
      const output = Object.values(built.metafile!.outputs).find((o) => o.entryPoint)!;
      const byPackage = new Map<string, number>();
      for (const [file, info] of Object.entries(output.inputs)) {
        // The last node_modules/ of the path: ioredis and @ioredis/commands are bundled from the copies lib/bundling.ts prepares.
        const pkg = /.*node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? '(skycache)';
        byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
      }
      const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([p, b]) => `${p} ${fmtKb(b)}`).join(', ');

      const route = routes.find((r) => r.handler === module && samples[r.id]?.length);
      const sample = route ? samples[route.id][0] : undefined;
      let importMs = NaN;
      let importCpuMs = NaN;
      let firstMs = NaN;
      let totalMs = NaN;
      let status = 'no sample';
      if (route && sample) {
        const results = [];
        for (let i = 0; i < runs; i++) {
          await sample.setup?.(admin, call);
          results.push(
            await runChild({
              ...process.env,
              REDIS_URL: redisUrl,
              AWS_LAMBDA_FUNCTION_NAME: `skycache-${module}`,
              BUNDLE_URL: pathToFileURL(outfile).href,
              EVENT: JSON.stringify(proxyEvent(route, sample.request)),
              CONTEXT: JSON.stringify(lambdaContext(`skycache-${module}`)),
            }),
          );
        }
        importMs = median(results.map((r) => r.importMs));
        importCpuMs = median(results.map((r) => r.importCpuMs));
        firstMs = median(results.map((r) => r.firstMs));
        totalMs = median(results.map((r) => r.total));
        status = String(results[0].status);
      }
      rows.push([module, fmtKb(bytes), fmtKb(gz), fmtKb(mapBytes), fmtMs(importMs), fmtMs(importCpuMs), fmtMs(firstMs), fmtMs(totalMs), status, top]);
      measured.push({ module, bytes, importMs, importCpuMs });
      measuredParts.set(module, byPackage);
    }
    const ioredisFile = join(dir, `ioredis-alone${handlerBundling.outExtension}`);
    await build({
      ...handlerBuildOptions(resolve(__dirname, '../../lambdas/handlers/index.ts'), ioredisFile),
      entryPoints: undefined,
      stdin: { contents: IOREDIS_ALONE, resolveDir: resolve(__dirname, '../..'), loader: 'ts' },
    });
    const timings: ChildTimings[] = [];
    for (let i = 0; i < runs; i++) timings.push(await runChild({ ...process.env, BUNDLE_URL: pathToFileURL(ioredisFile).href }));
    ioredisAlone = {
      bytes: statSync(ioredisFile).size,
      importMs: median(timings.map((r) => r.importMs)),
      importCpuMs: median(timings.map((r) => r.importCpuMs)),
    };
  } finally {
    admin.disconnect();
    await closeServices();
    rmSync(dir, { recursive: true, force: true });
  }
  const bySize = [...measured].sort((a, b) => b.bytes - a.bytes);
  const timed = measured.filter((m) => Number.isFinite(m.importMs)).sort((a, b) => b.importMs - a.importMs);
  const over = measured.filter((m) => m.bytes > MAX_BUNDLE_BYTES);
  const slow = timed.filter((m) => m.importMs > MAX_IMPORT_MS);
  const targets: TargetVerdict[] = [
    {
      target: `every handler bundle ≤ ${fmtKb(MAX_BUNDLE_BYTES)}`,
      met: bySize.length ? over.length === 0 : null,
      measured: bySize.length
        ? `${over.length} of ${measured.length} over; largest ${bySize[0].module} ${fmtKb(bySize[0].bytes)}, smallest ${bySize[bySize.length - 1].module} ${fmtKb(bySize[bySize.length - 1].bytes)}`
        : 'n/a',
    },
    {
      target: `every handler imported in ≤ ${MAX_IMPORT_MS} ms (median)`,
      met: timed.length ? slow.length === 0 : null,
      measured: timed.length ? `${slow.length} of ${timed.length} over; slowest ${timed[0].module} ${fmtMs(timed[0].importMs)} (median of runs)` : 'n/a',
    },
  ];
  const parts = (module: string) => measuredParts.get(module) ?? new Map<string, number>();
  const ownCode = measured.map((m) => parts(m.module).get('(skycache)') ?? 0).sort((a, b) => a - b);
  const byCpu = [...measured].filter((m) => Number.isFinite(m.importCpuMs)).sort((a, b) => a.importCpuMs - b.importCpuMs);
  const smallest = bySize[bySize.length - 1]?.module;
  if (smallest && ioredisAlone) {
    const part = (pkgs: string[]) => pkgs.reduce((a, p) => a + (parts(smallest).get(p) ?? 0), 0);
    const shared = [...parts(smallest)].filter(([p]) => p !== '(skycache)').reduce((a, [, b]) => a + b, 0);
    const ioredis = part(['ioredis', '@ioredis/commands']);
    const powertools = part(['@aws-lambda-powertools/logger', '@aws-lambda-powertools/metrics', '@aws-lambda-powertools/commons']);
    const zod = part(['zod']);
    const commandCount = Object.keys(JSON.parse(readFileSync(join(dirname(preparedIoredis().commands), 'commands.json'), 'utf8'))).length;
    const ownFits = ownCode[ownCode.length - 1] <= MAX_BUNDLE_BYTES - shared;
    notes.push(
      `Bundle size, from esbuild's metafile. Every bundle carries the same dependencies; in the smallest (${smallest}) they are ${fmtKb(shared)}: ` +
        `ioredis and its command table ${fmtKb(ioredis)}, as lib/bundling.ts prepares them: the table limited to the ${commandCount} commands skycache sends (lambdas/core/redis-commands.ts) and ioredis itself may (the package has 301, 37 KB of JSON, and ioredis defines a method and its Buffer twin per command), read by the package's own code; ` +
        'and the ioredis modules our options never reach replaced by stubs that throw if reached (TLS profiles, Sentinel, HIMPORT, the cluster and sharded pub/sub subscribers, scan streams: lambdas/core/ioredis-unused/), ' +
        `Powertools logger, metrics and commons ${fmtKb(powertools)}, zod/mini ${fmtKb(zod)} (the request schemas, and the response schemas the route table declares for docs/openapi.json), the rest (denque, middy, redis-errors, cluster-key-slot, …) ${fmtKb(shared - ioredis - powertools - zod)}. ` +
        `Each handler adds only its own family's code: ${fmtKb(ownCode[0])}–${fmtKb(ownCode[ownCode.length - 1])} (its routes and schemas, its store and Lua scripts, services, middleware, the runtime contract). ` +
        (ownFits
          ? `${fmtKb(MAX_BUNDLE_BYTES)} leaves ${fmtKb(MAX_BUNDLE_BYTES - shared)} for a handler's own code, which the largest family's fits in. `
          : `${fmtKb(MAX_BUNDLE_BYTES)} leaves ${fmtKb(MAX_BUNDLE_BYTES - shared)} for a handler's own code, less than the largest family needs. `) +
        "Not done: stubbing ioredis's diagnostics-channel tracing (1.4 KB: reached whenever an instrumentation subscribes); stripping the Lua comments and indentation (at most 3.3 KB, entry bundles).",
    );
    notes.push(
      `Import time: ioredis alone (${fmtKb(ioredisAlone.bytes)} bundled with these settings) imports in ${fmtMs(ioredisAlone.importMs)} (${fmtMs(ioredisAlone.importCpuMs)} CPU); ` +
        `the handler bundles in ${fmtMs(byCpu[0]?.importCpuMs)}–${fmtMs(byCpu[byCpu.length - 1]?.importCpuMs)} CPU (medians). ` +
        'Profiled with `node --cpu-prof` on an imported bundle: about a quarter is V8 compiling the bundle (in proportion to its size), about 13 ms loading the Node built-ins it needs at import (net, tls, crypto, dns, assert for redis-errors, diagnostics_channel for ioredis\'s tracing, stream/web for middy, console for Powertools), ' +
        'then zod (its schema classes, the runtime-contract schema) and Powertools (the logger built at import). skycache\'s own modules do no work at import beyond building the runtime-contract schema: the scripts are registered and their SHA-1s computed when the services are built, at the first request. ' +
        'What remains would only move to the first request if deferred (each is needed by it), so a cold start would not shorten. ' +
        'Wall times swing with the load of other jobs on the machine; the CPU column is the steady one.',
    );
  }
  return {
    title: '3. Cold start: handler bundles and first request',
    method:
      `Each handler module is bundled with esbuild using lib/bundling.ts (${handlerBundling.format.toUpperCase()}, minified, source map, platform ${handlerBundling.platform}, ` +
      `target ${handlerBundling.target}, ${handlerBundling.external.join(', ')} external) — the settings the CDK functions deploy with — into a temporary folder. ` +
      `Then, ${runs} times per handler, a fresh \`node\` (${process.version}) imports the bundle and serves one sample request against the bench's Redis (connect, script load included); medians shown, "import CPU" being the CPU time (user + system) the import took. ` +
      '"process total" is from the process\'s time origin to the first response, Node\'s own start-up included; Lambda\'s init (sandbox, runtime) is not.',
    tables: [{ header: ['handler', 'bundle', 'gzip', 'source map', 'import', 'import CPU', 'first request', 'process total', 'status', 'largest parts'], rows }],
    targets,
    notes,
  };
}
