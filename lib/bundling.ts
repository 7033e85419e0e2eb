import type { BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { allowedRedisCommands } from '../lambdas/core/redis-commands';

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
   * (lambdas/core/no-debug.ts says why), redis-errors by its one module Node 20+ runs. ioredis and its command
   * table are replaced too, by the copies preparedIoredis() writes (see there).
   */
  alias: {
    debug: 'lambdas/core/no-debug.ts',
    // redis-errors chooses at run time between its classes for Node < 7 and its modern ones: bundle the latter only.
    'redis-errors': 'node_modules/redis-errors/lib/modern.js',
  },
} as const;

const ROOT = resolve(__dirname, '..');

/**
 * ioredis modules that skycache's options never reach, each replaced in the bundles by a stub that throws if it ever
 * is (each stub says why it is unreachable): paths under ioredis's `built/` → stub, relative to the project root.
 */
export const IOREDIS_STUBS = {
  'constants/TLSProfiles.js': 'lambdas/core/ioredis-unused/tls-profiles.ts',
  'connectors/SentinelConnector/index.js': 'lambdas/core/ioredis-unused/sentinel.ts',
  'cluster/ClusterSubscriberGroup.js': 'lambdas/core/ioredis-unused/sharded-subscribers.ts',
  'himport/HimportCoordinator.js': 'lambdas/core/ioredis-unused/himport.ts',
  'cluster/ClusterSubscriber.js': 'lambdas/core/ioredis-unused/cluster-subscriber.ts',
  'ScanStream.js': 'lambdas/core/ioredis-unused/scan-stream.ts',
} as const;

/**
 * Commands ioredis calls by method name on paths our options never take (a database number in the URL, resubscribing
 * channels after a reconnect, CLIENT SETINFO without disableClientInfo): kept in the table so that, if one is ever
 * taken, the method exists and Redis (the app user's ACL) answers, rather than a TypeError. Everything ioredis sends
 * on the paths we do take is in REDIS_COMMANDS (lambdas/core/redis-commands.ts: connection, cluster).
 */
const IOREDIS_UNTAKEN_COMMANDS = ['select', 'subscribe', 'psubscribe', 'ssubscribe', 'client|setinfo'];

interface CommandSpec {
  arity?: number;
  flags: string[];
  keyStart: number;
  keyStop: number;
  step: number;
  subcommands?: Record<string, CommandSpec>;
}

/**
 * The @ioredis/commands table limited to `names` (`command` or `command|subcommand`, as REDIS_COMMANDS writes them),
 * and to what the package's code reads of an entry: the key positions and subcommands, and of the flags only the
 * ones ioredis asks about (`flags`). ioredis defines a method and its Buffer twin per command of the table at import,
 * and routes a command by its keys only when the table knows it: the table must hold every command skycache sends,
 * and needs no other.
 */
export function commandTable(full: Record<string, CommandSpec>, names: readonly string[], flags: readonly string[]): Record<string, CommandSpec> {
  const keys = ({ keyStart, keyStop, step }: CommandSpec) => ({ keyStart, keyStop, step });
  const table: Record<string, CommandSpec> = {};
  for (const name of [...names].sort()) {
    const [command, sub] = name.split('|');
    const spec = full[command];
    if (!spec || (sub && !spec.subcommands?.[sub])) throw new Error(`@ioredis/commands does not know the command ${name}`);
    const entry = (table[command] ??= { flags: spec.flags.filter((f) => flags.includes(f)), ...keys(spec), subcommands: {} });
    // A command named whole keeps every subcommand; one named by its subcommands, just those.
    for (const [subName, subSpec] of Object.entries(spec.subcommands ?? {})) {
      if (!sub || subName === sub) entry.subcommands![subName] = { flags: [], ...keys(subSpec) };
    }
  }
  for (const entry of Object.values(table)) if (!Object.keys(entry.subcommands!).length) delete entry.subcommands;
  return table;
}

/** The `.js` files under `dir`, relative to it, in a stable order. */
function jsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.js')).sort();
}

let prepared: { ioredis: string; commands: string } | undefined;

/**
 * Writes (once per content, under node_modules/.cache/skycache-bundling/) the ioredis the bundles carry, and returns
 * its entry and its command table's: a copy of the installed ioredis whose modules in IOREDIS_STUBS re-export our
 * stubs, and a copy of the installed @ioredis/commands — its own code, unchanged — over a commands.json holding only
 * what skycache sends (REDIS_COMMANDS) and what ioredis itself may (IOREDIS_UNTAKEN_COMMANDS): 37 KB of JSON and
 * about 220 command methods (with their Buffer twins) fewer in every bundle. esbuild's alias names packages only, not
 * the files a package requires by relative path, hence the copies; NodejsFunction, which takes no esbuild plugin,
 * gets them through the same aliases. ioredis's nested dependencies resolve to the project's own (checked
 * identical). The tests run the bundles against a single Redis and a cluster (test/bundles-run.test.ts).
 */
export function preparedIoredis(): { ioredis: string; commands: string } {
  if (prepared) return prepared;
  const modules = join(ROOT, 'node_modules');
  const ioredisDir = join(modules, 'ioredis');
  const commandsDir = join(modules, '@ioredis/commands');
  const files = new Map<string, string>();
  files.set('node_modules/ioredis/package.json', readFileSync(join(ioredisDir, 'package.json'), 'utf8'));
  for (const file of jsFiles(join(ioredisDir, 'built'))) {
    const stub = IOREDIS_STUBS[file as keyof typeof IOREDIS_STUBS];
    const text = stub
      ? `// Replaced in skycache's bundles by ${stub} (lib/bundling.ts).\nmodule.exports = require(${JSON.stringify(join(ROOT, stub))});\n`
      : readFileSync(join(ioredisDir, 'built', file), 'utf8');
    files.set(`node_modules/ioredis/built/${file}`, text);
  }
  for (const stubbed of Object.keys(IOREDIS_STUBS)) {
    if (!files.has(`node_modules/ioredis/built/${stubbed}`)) throw new Error(`ioredis has no built/${stubbed} to replace: review IOREDIS_STUBS`);
  }
  const nested = join(ioredisDir, 'node_modules');
  for (const dep of existsSync(nested) ? readdirSync(nested) : []) {
    const main = (dir: string) => {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { main?: string };
      return readFileSync(join(dir, pkg.main ?? 'index.js'), 'utf8');
    };
    if (!existsSync(join(modules, dep)) || main(join(nested, dep)) !== main(join(modules, dep))) {
      throw new Error(`ioredis's own ${dep} differs from the project's: lib/bundling.ts would bundle the project's`);
    }
  }
  // The flags ioredis asks about (readonly: replica routing; loading): read from its code, every call accounted for.
  const ioredisCode = [...files.values()].join('\n');
  const asked = [...ioredisCode.matchAll(/\.hasFlag\)\([^,]+, "(\w+)"/g)].map((m) => m[1]);
  if (!asked.length || asked.length !== ioredisCode.split('.hasFlag)(').length - 1) {
    throw new Error('ioredis asks @ioredis/commands for flags lib/bundling.ts cannot read: review commandTable');
  }
  const full = JSON.parse(readFileSync(join(commandsDir, 'built/commands.json'), 'utf8')) as Record<string, CommandSpec>;
  const table = commandTable(full, [...allowedRedisCommands(), ...IOREDIS_UNTAKEN_COMMANDS], [...new Set(asked)]);
  files.set('node_modules/@ioredis/commands/package.json', readFileSync(join(commandsDir, 'package.json'), 'utf8'));
  files.set('node_modules/@ioredis/commands/built/index.js', readFileSync(join(commandsDir, 'built/index.js'), 'utf8'));
  files.set('node_modules/@ioredis/commands/built/commands.json', JSON.stringify(table));

  const hash = createHash('sha256');
  for (const [file, text] of files) hash.update(`${file}\0${text}\0`);
  const base = join(modules, '.cache/skycache-bundling');
  const dir = join(base, hash.digest('hex').slice(0, 16));
  if (!existsSync(dir)) {
    // Written aside and renamed into place: parallel builds (jest workers) never read a half-written copy.
    const temp = join(base, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
    for (const [file, text] of files) {
      mkdirSync(dirname(join(temp, file)), { recursive: true });
      writeFileSync(join(temp, file), text);
    }
    try {
      renameSync(temp, dir);
    } catch (e) {
      rmSync(temp, { recursive: true, force: true });
      if (!existsSync(dir)) throw e;
    }
  }
  prepared = {
    ioredis: join(dir, 'node_modules/ioredis/built/index.js'),
    commands: join(dir, 'node_modules/@ioredis/commands/built/index.js'),
  };
  return prepared;
}

/**
 * Every alias of the bundles, with absolute paths (esbuild resolves an alias from its working directory, wherever
 * that is): handlerBundling.alias, and ioredis and @ioredis/commands by the copies preparedIoredis() writes.
 */
export function bundleAliases(): Record<string, string> {
  const { ioredis, commands } = preparedIoredis();
  return {
    ...Object.fromEntries(Object.entries(handlerBundling.alias).map(([name, file]) => [name, resolve(ROOT, file)])),
    ioredis,
    '@ioredis/commands': commands,
  };
}

/** bundleAliases() as NodejsFunction passes them to esbuild (its `bundling` has no alias property of its own). */
export function aliasArgs(): { '--alias': string[] } {
  return { '--alias': Object.entries(bundleAliases()).map(([name, file]) => `${name}=${file}`) };
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
    alias: bundleAliases(),
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
