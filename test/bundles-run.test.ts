import { build } from 'esbuild';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { handlerBuildOptions, handlerBundling, SERVER_ENTRY, serverBuildOptions } from '../lib/bundling';
import { entryKey, slotOf } from '../lambdas/core/keyspace';
import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { handlerModules, routes } from '../lambdas/routes';
import { lambdaContext, proxyEvent, type SampleRequest } from '../bench/lib/events';
import { call, killLeftovers, startServiceProcess } from './support/service-process';

/**
 * The bundles that deploy, run: lib/bundling.ts replaces parts of ioredis in them (a command table limited to what
 * skycache sends, stubs for what its options never reach), which the other suites, running the TypeScript sources
 * with the real packages, never see. Every handler module is bundled with handlerBuildOptions, and a child `node`
 * imports the bundles and invokes their routes with API Gateway proxy events, against a single redis-server and
 * against a 3 × (1 + 1) cluster; the server bundle starts and answers too.
 */
const ROOT = resolve(__dirname, '..');
let dir: string;
let single: RedisProcess;
let cluster: RedisClusterProcess;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'skycache-bundles-run-'));
  const bundles = Promise.all([
    ...handlerModules().map((m) =>
      build(handlerBuildOptions(join(ROOT, 'lambdas/handlers', `${m}.ts`), join(dir, `${m}${handlerBundling.outExtension}`))),
    ),
    build(serverBuildOptions(join(ROOT, SERVER_ENTRY), join(dir, 'server', 'main.mjs'))),
  ]);
  [single, cluster] = await Promise.all([startRedisProcess(), startRedisCluster(), bundles]);
}, 120_000);

afterAll(async () => {
  await Promise.all([single?.stop(), cluster?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Runs in a child `node`: imports each bundle once, invokes the steps in order, writes their answers to a file. */
const CHILD = `
import { readFileSync, writeFileSync } from 'node:fs';
const { steps, context, out } = JSON.parse(readFileSync(process.env.STEPS_FILE, 'utf8'));
const modules = {};
const answers = [];
for (const { bundle, event } of steps) {
  modules[bundle] ??= await import(bundle);
  try {
    const r = await modules[bundle].handler(event, context);
    answers.push({ status: r.statusCode, body: r.body ? JSON.parse(r.body) : undefined });
  } catch (e) {
    answers.push({ status: -1, body: String(e && e.stack || e) });
  }
}
writeFileSync(out, JSON.stringify(answers));
process.exit(0);
`;

interface Step {
  route: string;
  request?: SampleRequest;
  status: number;
  /** Further expectations on the answer's body. */
  body?: (body: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
}

const on = (key: string, extra: SampleRequest = {}): SampleRequest => ({ ...extra, pathParameters: { key } });
const BATCH_KEYS = Array.from({ length: 12 }, (_, i) => `bundles:batch:${i}`);

/** At least one read and one write route of each family, each bundle's first request included. */
const STEPS: Step[] = [
  { route: 'setEntry', request: { body: { key: 'bundles:a', value: { n: 1 }, ttl: 600, tags: ['t1'] } }, status: 201 },
  { route: 'getEntry', request: on('bundles:a'), status: 200, body: (b) => expect(b.value).toEqual({ n: 1 }) },
  { route: 'getEntryByQuery', request: { query: { key: 'bundles:a' } }, status: 200 },
  { route: 'putEntry', request: on('bundles:b', { body: { value: 'x', ttl: 600 } }), status: 201 },
  { route: 'deleteEntry', request: on('bundles:b'), status: 204 },
  { route: 'getEntry', request: on('bundles:b'), status: 404 },
  { route: 'getEntryTtl', request: on('bundles:a'), status: 200, body: (b) => expect(b.ttl).toBeGreaterThan(0) },
  { route: 'touchEntry', request: on('bundles:a', { body: { ttl: 900 } }), status: 200 },
  {
    route: 'batchSet',
    request: { body: { items: BATCH_KEYS.map((key, i) => ({ key, value: i, ttl: 600 })) } },
    status: 200,
    body: (b) => expect(b.items).toHaveLength(BATCH_KEYS.length),
  },
  {
    route: 'batchGet',
    request: { body: { keys: BATCH_KEYS } },
    status: 200,
    body: (b) => expect(b.items.map((i: { value: unknown }) => i.value)).toEqual(BATCH_KEYS.map((_, i) => i)),
  },
  { route: 'batchDelete', request: { body: { keys: BATCH_KEYS } }, status: 200 },
  { route: 'setEntry', request: { body: { key: 'bundles:p:1', value: 1, ttl: 600 } }, status: 201 },
  { route: 'setEntry', request: { body: { key: 'bundles:p:2', value: 2, ttl: 600 } }, status: 201 },
  { route: 'invalidate', request: { body: { prefix: 'bundles:p:' } }, status: 200, body: (b) => expect(b.invalidated).toBe(2) },
  { route: 'invalidate', request: { body: { tags: ['t1'] } }, status: 200, body: (b) => expect(b.invalidated).toBe(1) },
  { route: 'getEntry', request: on('bundles:a'), status: 404 },
  { route: 'incrementCounter', request: on('bundles:c', { body: { by: 2 } }), status: 201 },
  { route: 'getCounter', request: on('bundles:c'), status: 200, body: (b) => expect(b.value).toBe(2) },
  { route: 'pushList', request: on('bundles:l', { body: { values: [1, 2, 3] } }), status: 201 },
  { route: 'getListRange', request: on('bundles:l'), status: 200, body: (b) => expect(b.values).toEqual([1, 2, 3]) },
  { route: 'addSetMembers', request: on('bundles:s', { body: { members: ['a', 'b'] } }), status: 201 },
  { route: 'getSetMembers', request: on('bundles:s'), status: 200, body: (b) => expect([...b.members].sort()).toEqual(['a', 'b']) },
  { route: 'setHashFields', request: on('bundles:h', { body: { fields: { a: 1, b: 2 } } }), status: 201 },
  { route: 'getHash', request: on('bundles:h'), status: 200, body: (b) => expect(b.fields).toEqual({ a: 1, b: 2 }) },
  { route: 'addSortedSetMembers', request: on('bundles:z', { body: { members: [{ member: 'a', score: 1 }, { member: 'b', score: 2 }] } }), status: 201 },
  { route: 'getSortedSetRange', request: on('bundles:z'), status: 200, body: (b) => expect(b.members).toEqual(['a', 'b']) },
  { route: 'publishMessage', request: { pathParameters: { topic: 'bundles:t' }, body: { message: 'hello' } }, status: 201 },
  {
    route: 'subscribeTopic',
    request: { pathParameters: { topic: 'bundles:t' }, query: { limit: '10', wait: '0' } },
    status: 200,
    body: (b) => expect(b.messages.map((m: { data: unknown }) => m.data)).toEqual(['hello']),
  },
  { route: 'getCacheStats', status: 200 },
];

async function runSteps(env: Record<string, string>): Promise<{ status: number; body: unknown }[]> {
  const stepsFile = join(dir, `steps-${Math.random().toString(36).slice(2)}.json`);
  const out = `${stepsFile}.out`;
  const steps = STEPS.map(({ route: id, request }) => {
    const route = routes.find((r) => r.id === id)!;
    return { bundle: pathToFileURL(join(dir, `${route.handler}${handlerBundling.outExtension}`)).href, event: proxyEvent(route, request) };
  });
  writeFileSync(stepsFile, JSON.stringify({ steps, context: lambdaContext('skycache-bundles'), out }));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, STEPS_FILE: stepsFile };
  if (!env.REDIS_URL) delete childEnv.REDIS_URL;
  if (!env.REDIS_CLUSTER_NODES) delete childEnv.REDIS_CLUSTER_NODES;
  // Not a Lambda: stats then read Redis, not CloudWatch (the bundles leave the AWS SDK out, as Lambda provides it).
  delete childEnv.AWS_LAMBDA_FUNCTION_NAME;
  await new Promise<void>((done, fail) =>
    execFile(process.execPath, ['--input-type=module', '-e', CHILD], { env: childEnv, timeout: 45_000 }, (error, _stdout, stderr) =>
      error ? fail(new Error(`${error.message}\n${stderr}`)) : done(),
    ),
  );
  return JSON.parse(readFileSync(out, 'utf8'));
}

function expectAnswers(answers: { status: number; body: unknown }[]): void {
  // Every step's route and status at once: a failure shows them all (an exception in a handler shows as -1).
  expect(answers.map((a, i) => `${i} ${STEPS[i]?.route} ${a.status}`)).toEqual(STEPS.map((s, i) => `${i} ${s.route} ${s.status}`));
  STEPS.forEach((step, i) => step.body?.(answers[i].body));
}

test('every route family answers from its bundle against a single redis-server', async () => {
  expectAnswers(await runSteps({ REDIS_URL: single.url }));
}, 60_000);

test('every route family answers from its bundle against a cluster, a batch across slots included', async () => {
  expect(new Set(BATCH_KEYS.map((k) => slotOf(entryKey(k)))).size).toBeGreaterThan(1);
  expectAnswers(await runSteps({ REDIS_CLUSTER_NODES: cluster.seedList }));
}, 60_000);

test('the server bundle starts and answers', async () => {
  const service = await startServiceProcess({ entry: join(dir, 'server', 'main.mjs'), env: { REDIS_URL: single.url, WORKERS: '1' } });
  try {
    const put = await call(service.url, 'POST', '/cache', { body: { key: 'bundles:server', value: 'up', ttl: 60 } });
    expect(put.status).toBe(201);
    const got = await call(service.url, 'GET', '/cache/bundles:server');
    expect({ status: got.status, value: got.json?.value }).toEqual({ status: 200, value: 'up' });
  } finally {
    service.launcher.kill('SIGTERM');
    await service.exited;
    killLeftovers(service.serverPid);
  }
}, 60_000);
