import type { BuildOptions } from 'esbuild';
import { resolve } from 'node:path';

/**
 * How every Lambda handler is bundled: the one place these settings live. The CDK construct (NodejsFunction
 * `bundling`) and the benchmark's cold-start measurement both read them, so what is measured is what deploys.
 */
export const handlerBundling = {
  format: 'esm',
  platform: 'node',
  /** The Lambda runtime the functions deploy on (nodejs22.x). */
  target: 'node22',
  minify: true,
  /** External `.map` file next to the bundle; the function runs with NODE_OPTIONS=--enable-source-maps. */
  sourcemap: true,
  /** Maps without embedded sources: smaller artifacts, stack traces still map to file and line. */
  sourcesContent: false,
  /** The Lambda runtime ships the AWS SDK v3. */
  external: ['@aws-sdk/*'],
  /** Prefer the ESM build of dependencies that ship both, so tree-shaking works. */
  mainFields: ['module', 'main'],
  /** CommonJS dependencies (ioredis) call require() on Node built-ins; an ESM bundle needs one to exist. */
  banner: "import { createRequire as __skycacheCreateRequire } from 'node:module';const require = __skycacheCreateRequire(import.meta.url);",
  /** The file extension that makes Node load the bundle as ESM without a package.json. */
  outExtension: '.mjs',
  /**
   * Packages replaced in the bundle, by a file relative to the project root: ioredis's `debug` tracing by a no-op
   * (lambdas/core/no-debug.ts says why).
   */
  alias: { debug: 'lambdas/core/no-debug.ts' },
} as const;

/** handlerBundling.alias with absolute paths: esbuild resolves an alias from its working directory, wherever that is. */
function resolvedAlias(): Record<string, string> {
  return Object.fromEntries(Object.entries(handlerBundling.alias).map(([name, file]) => [name, resolve(__dirname, '..', file)]));
}

/** handlerBundling.alias as NodejsFunction passes it to esbuild (its `bundling` has no alias property of its own). */
export function aliasArgs(): { '--alias': string[] } {
  return { '--alias': Object.entries(resolvedAlias()).map(([name, file]) => `${name}=${file}`) };
}

/** esbuild options that bundle one handler module (`entry`) into `outfile` (which should end in `.mjs`). */
export function handlerBuildOptions(entry: string, outfile: string): BuildOptions {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: handlerBundling.format,
    platform: handlerBundling.platform,
    target: handlerBundling.target,
    minify: handlerBundling.minify,
    sourcemap: handlerBundling.sourcemap,
    sourcesContent: handlerBundling.sourcesContent,
    external: [...handlerBundling.external],
    mainFields: [...handlerBundling.mainFields],
    banner: { js: handlerBundling.banner },
    alias: resolvedAlias(),
    metafile: true,
    logLevel: 'silent',
  };
}

/** The production HTTP server's entry (the `front=service` container runs its bundle). */
export const SERVER_ENTRY = 'lambdas/server/main.ts';
/** Where the container image's build stage writes the server bundle, relative to the build directory. */
export const SERVER_BUNDLE = 'dist/server/main.mjs';

/**
 * esbuild options of the server bundle: the handlers' settings (one definition), except that the AWS SDK is bundled
 * too — a container has no runtime-provided SDK as Lambda has, and the image carries only the bundle.
 */
export function serverBuildOptions(entry: string, outfile: string): BuildOptions {
  return { ...handlerBuildOptions(entry, outfile), external: [] };
}

/**
 * `tsx lib/bundling.ts server [entry] [outfile]`: bundles the production server — the Dockerfile's build stage runs
 * exactly this, so the image carries the bundle the tests build.
 */
async function cli(args: string[]): Promise<void> {
  const [what, entry = SERVER_ENTRY, outfile = SERVER_BUNDLE] = args;
  if (what !== 'server') throw new Error('usage: tsx lib/bundling.ts server [entry] [outfile]');
  const { build } = await import('esbuild');
  await build(serverBuildOptions(entry, outfile));
  console.log(`bundled ${entry} -> ${outfile}`);
}

if (require.main === module) {
  cli(process.argv.slice(2)).catch((e: Error) => {
    console.error(e.message);
    process.exit(1);
  });
}
