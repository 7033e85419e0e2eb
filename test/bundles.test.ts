import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { aliasArgs, bundleAliases, handlerBuildOptions, handlerBundling, IOREDIS_STUBS, preparedIoredis } from '../lib/bundling';
import { allowedRedisCommands } from '../lambdas/core/redis-commands';
import { handlerModules } from '../lambdas/routes';
import * as collectionStores from '../lambdas/stores/collections';
import * as entryStores from '../lambdas/stores/entries';
import * as topicStores from '../lambdas/stores/topics';

/**
 * Each handler bundle carries its own route family's code and Lua scripts only (lambdas/stores/, provideStores),
 * and none of the packages lib/bundling.ts replaces. Sizes and import times are the bench's (cold-start section).
 */
const FAMILY_SCRIPTS = {
  entries: 'lambdas/domain/scripts.ts',
  collections: 'lambdas/domain/collection-scripts.ts',
  topics: 'lambdas/domain/topics.ts',
} as const;
type ScriptFamily = keyof typeof FAMILY_SCRIPTS;

const SCRIPTS_OF: Record<string, ScriptFamily[]> = {
  stats: [],
  'get-entry': ['entries'],
  'set-entry': ['entries'],
  'delete-entry': ['entries'],
  invalidate: ['entries'],
  batch: ['entries'],
  'entry-ttl': ['entries'],
  counters: ['entries'],
  lists: ['collections'],
  sets: ['collections'],
  hashes: ['collections'],
  'sorted-sets': ['collections'],
  topics: ['topics'],
};

const root = resolve(__dirname, '..');

async function bundleInputs(module: string): Promise<string[]> {
  const built = await build({ ...handlerBuildOptions(resolve(root, 'lambdas/handlers', `${module}.ts`), `/tmp/unused/${module}.mjs`), write: false });
  const output = Object.values(built.metafile!.outputs).find((o) => o.entryPoint)!;
  return Object.keys(output.inputs).map((file) => resolve(root, file).slice(root.length + 1));
}

test('NodejsFunction gets the same aliases, as esbuild arguments naming existing files', () => {
  const args = aliasArgs()['--alias'];
  expect(args.map((a) => a.split('=')[0]).sort()).toEqual(Object.keys(bundleAliases()).sort());
  expect(Object.keys(bundleAliases())).toEqual(expect.arrayContaining([...Object.keys(handlerBundling.alias), 'ioredis', '@ioredis/commands']));
  for (const arg of args) {
    const [, file] = arg.split('=');
    expect(existsSync(file) && file.startsWith('/')).toBe(true);
  }
});

test("the bundles' command table holds every command skycache sends, and ioredis's own, with the package's key positions", () => {
  const full = JSON.parse(readFileSync(resolve(root, 'node_modules/@ioredis/commands/built/commands.json'), 'utf8'));
  const table = JSON.parse(readFileSync(resolve(preparedIoredis().commands, '../commands.json'), 'utf8'));
  for (const name of allowedRedisCommands()) {
    const [command, sub] = name.split('|');
    const [spec, original] = sub ? [table[command]?.subcommands?.[sub], full[command].subcommands[sub]] : [table[command], full[command]];
    expect({ name, keyStart: spec?.keyStart, keyStop: spec?.keyStop, step: spec?.step }).toEqual({
      name,
      keyStart: original.keyStart,
      keyStop: original.keyStop,
      step: original.step,
    });
  }
  expect(table.get.flags).toEqual(['readonly']);
  expect(table.set.flags).toEqual([]);
  expect(Object.keys(table).length).toBeLessThan(100);
});

test('no skycache code builds an ioredis scan stream (lib/bundling.ts stubs them)', () => {
  const code = readdirSync(resolve(root, 'lambdas'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => readFileSync(resolve(root, 'lambdas', file), 'utf8'));
  expect(code.filter((text) => /\.[shz]?scanStream(Buffer)?\(/.test(text))).toEqual([]);
});

test("each ioredis module the bundles replace exists, and each stub exports the original's names", () => {
  for (const [file, stub] of Object.entries(IOREDIS_STUBS)) {
    const original = readFileSync(resolve(root, 'node_modules/ioredis/built', file), 'utf8');
    const names = [...original.matchAll(/^exports\.(\w+) = /gm)].map((m) => m[1]).filter((n) => n !== '__esModule');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = Object.keys(require(resolve(root, stub)));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect({ file, name, exported: exported.includes(name) }).toEqual({ file, name, exported: true });
  }
});

test('the table of expected script families names every handler module', () => {
  expect(Object.keys(SCRIPTS_OF).sort()).toEqual(handlerModules().sort());
});

describe.each(handlerModules())('the %s bundle', (module) => {
  let inputs: string[];
  beforeAll(async () => {
    inputs = await bundleInputs(module);
  }, 60_000);

  test('carries the Lua scripts of its own family and no other', () => {
    const carried = (Object.keys(FAMILY_SCRIPTS) as ScriptFamily[]).filter((f) => inputs.includes(FAMILY_SCRIPTS[f]));
    expect(carried.sort()).toEqual([...SCRIPTS_OF[module]].sort());
  });

  test('carries neither `debug` (replaced by a no-op) nor classic zod', () => {
    expect(inputs.filter((f) => /node_modules\/(debug|ms|supports-color|has-flag)\//.test(f))).toEqual([]);
    expect(inputs).toContain('lambdas/core/no-debug.ts');
    expect(inputs.filter((f) => /node_modules\/zod\/v4\/classic\//.test(f))).toEqual([]);
  });
});

/** A store the module's code reads must be one it provides: else the first request of that route is a 500. */
describe.each(handlerModules())('handler module %s', (module) => {
  test('provides every store it uses', () => {
    const source = readFileSync(resolve(root, 'lambdas/handlers', `${module}.ts`), 'utf8');
    const used = new Set([...source.matchAll(/services\.(entries|lists|sets|hashes|sortedSets|counters|topics)\b/g)].map((m) => m[1]));
    const providerNames = new Map(
      Object.entries({ ...entryStores, ...collectionStores, ...topicStores })
        .filter(([, v]) => typeof v === 'object' && v !== null && 'name' in v)
        .map(([constName, provider]) => [constName, (provider as { name: string }).name]),
    );
    const call = /provideStores\(([^)]*)\)/.exec(source)?.[1] ?? '';
    const provided = new Set(call.split(',').map((s) => providerNames.get(s.trim())).filter(Boolean));
    expect([...used].filter((name) => !provided.has(name))).toEqual([]);
  });
});
