import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { handlerBuildOptions, handlerBundling } from '../../lib/bundling';
import { handlerModules, routes } from '../../lambdas/routes';
import { lambdaContext, proxyEvent } from '../lib/events';
import { callRoute, closeServices, useRedisForHandlers } from '../lib/handlers';
import type { SectionResult, TargetVerdict } from '../lib/report';
import { fmtKb, fmtMs } from '../lib/stats';
import { samples } from '../samples';
import Redis from 'ioredis';

const MAX_BUNDLE_BYTES = 250 * 1024;
const MAX_IMPORT_MS = 100;

/** Runs in a fresh `node`: import the bundle, serve one request, print the timings as JSON. */
const CHILD = `
const t0 = performance.now();
const mod = await import(process.env.BUNDLE_URL);
const t1 = performance.now();
const result = await mod.handler(JSON.parse(process.env.EVENT), JSON.parse(process.env.CONTEXT));
const t2 = performance.now();
console.log(JSON.stringify({ boot: t0, importMs: t1 - t0, firstMs: t2 - t1, total: t2, status: result.statusCode }));
process.exit(0);
`;

function runChild(env: NodeJS.ProcessEnv): Promise<{ boot: number; importMs: number; firstMs: number; total: number; status: number }> {
  return new Promise((resolvePromise, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD], { env, timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolvePromise(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

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
  const measured: { module: string; bytes: number; importMs: number }[] = [];
  const notes: string[] = [];
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
        const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1] ?? '(skycache)';
        byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + info.bytesInOutput);
      }
      const top = [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([p, b]) => `${p} ${fmtKb(b)}`).join(', ');

      const route = routes.find((r) => r.handler === module && samples[r.id]?.length);
      const sample = route ? samples[route.id][0] : undefined;
      let importMs = NaN;
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
        firstMs = median(results.map((r) => r.firstMs));
        totalMs = median(results.map((r) => r.total));
        status = String(results[0].status);
      }
      rows.push([module, fmtKb(bytes), fmtKb(gz), fmtKb(mapBytes), fmtMs(importMs), fmtMs(firstMs), fmtMs(totalMs), status, top]);
      measured.push({ module, bytes, importMs });
    }
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
      target: `every handler imported in ≤ ${MAX_IMPORT_MS} ms`,
      met: timed.length ? slow.length === 0 : null,
      measured: timed.length ? `${slow.length} of ${timed.length} over; slowest ${timed[0].module} ${fmtMs(timed[0].importMs)} (median of runs)` : 'n/a',
    },
  ];
  if (over.length) {
    notes.push(
      'Bundle size: ioredis (with its command table @ioredis/commands) is about 175 KB of every bundle and cannot be tree-shaken (CommonJS); zod\'s classic API is about 90 KB ' +
        '(its methods live on the schema prototypes, so esbuild keeps them all). Importing zod as a namespace (`import * as z`) already took the bundles from about 690 KB to the sizes above. ' +
        'Reaching 250 KB needs the handlers to validate with `zod/mini` (same schemas in its functional API; a body schema like ours bundles to about 18 KB with zod/mini against 90 KB with classic zod), a rewrite of lambdas/http/schemas.ts that the route table and the API Gateway models also read — left for a coordinated change.',
    );
  }
  return {
    title: '3. Cold start: handler bundles and first request',
    method:
      `Each handler module is bundled with esbuild using lib/bundling.ts (${handlerBundling.format.toUpperCase()}, minified, source map, platform ${handlerBundling.platform}, ` +
      `target ${handlerBundling.target}, ${handlerBundling.external.join(', ')} external) — the settings the CDK functions deploy with — into a temporary folder. ` +
      `Then, ${runs} times per handler, a fresh \`node\` (${process.version}) imports the bundle and serves one sample request against the bench's Redis (connect, script load included); medians shown. ` +
      '"process total" is from the process\'s time origin to the first response, Node\'s own start-up included; Lambda\'s init (sandbox, runtime) is not.',
    tables: [{ header: ['handler', 'bundle', 'gzip', 'source map', 'import', 'first request', 'process total', 'status', 'largest parts'], rows }],
    targets,
    notes,
  };
}
