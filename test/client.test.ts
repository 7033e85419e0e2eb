/**
 * Issue 13, "done when": the typed client (client/) against `npm start`'s HTTP (lambdas/local/main.ts as its own
 * process, serving through the production server) on a real Redis, a single node and a 3-primary cluster. The
 * stampede tests run the client in 4 separate OS processes (test/support/client-worker.ts).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SkycacheClient, SkycacheError, WriteBehindFullError } from '../client/src/index.js';
import { startRedisCluster, type RedisClusterProcess } from '../lambdas/local/redis-cluster';
import { killLeftovers, startServiceProcess, waitFor, type ServiceProcess } from './support/service-process';

const ROOT = join(__dirname, '..');
const run = promisify(execFile);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Worker {
  child: ChildProcess;
  output(): string;
  /** Resolves with the worker's JSON line once it exits. */
  result: Promise<{ loads: number; values: unknown[] }>;
}

/** Starts a client worker process (it waits for "go"). */
function startWorker(url: string, key: string, count: number, delayMs: number, tag: string, leaseMs: number, grace?: number): Worker {
  const args = ['--import', 'tsx', 'test/support/client-worker.ts', url, key, String(count), String(delayMs), tag, String(leaseMs)];
  if (grace !== undefined) args.push(String(grace));
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const result = new Promise<{ loads: number; values: unknown[] }>((resolve, reject) =>
    child.once('exit', (code) => {
      const line = text.split('\n').find((l) => l.startsWith('{'));
      if (code === 0 && line) resolve(JSON.parse(line));
      else reject(new Error(`worker ${tag} exited with ${code}:\n${text}`));
    }),
  );
  result.catch(() => undefined);
  return { child, output: () => text, result };
}

/** Waits until every worker is ready (compiled, its client made, listening on stdin), then says "go" to all at once. */
async function go(workers: Worker[]): Promise<void> {
  await waitFor(() => workers.every((w) => w.output().includes('ready')), 60_000, 'the workers to be ready');
  for (const w of workers) w.child.stdin!.write('go\n');
}

describe.each(['single node', 'cluster'] as const)('the client against npm start on a %s', (kind) => {
  let service: ServiceProcess;
  let cluster: RedisClusterProcess | undefined;
  let client: SkycacheClient;
  const spawned: Worker[] = [];

  beforeAll(async () => {
    if (kind === 'cluster') cluster = await startRedisCluster({ replicasPerPrimary: 0 });
    service = await startServiceProcess({ env: { WORKERS: '2', ...(cluster ? { REDIS_CLUSTER_NODES: cluster.seedList } : {}) } });
    client = new SkycacheClient({ baseUrl: service.url, timeoutMs: 30_000 });
  }, 120_000);
  afterAll(async () => {
    for (const w of spawned) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    if (service) {
      service.launcher.kill('SIGTERM');
      await Promise.race([service.exited, sleep(15_000)]);
      killLeftovers(service.launcher.pid, service.serverPid, service.redisPid);
    }
    await cluster?.stop();
  }, 60_000);

  const workers = (...list: Worker[]) => {
    spawned.push(...list);
    return list;
  };

  test('200 concurrent getOrSet calls on a cold key from 4 OS processes run the loader exactly once', async () => {
    const key = `cold-${Date.now()}`;
    const group = workers(...Array.from({ length: 4 }, (_, i) => startWorker(service.url, key, 50, 300, `p${i}`, 10_000)));
    await go(group);
    const results = await Promise.all(group.map((w) => w.result));
    expect(results.reduce((n, r) => n + r.loads, 0)).toBe(1);
    const values = results.flatMap((r) => r.values);
    expect(values).toHaveLength(200);
    const loader = results.find((r) => r.loads === 1)!;
    expect(new Set(values.map((v) => JSON.stringify(v)))).toEqual(new Set([JSON.stringify(loader.values[0])]));
    expect((await client.get(key))?.value).toEqual(loader.values[0]);
  }, 120_000);

  test('a lease holder killed mid-load is replaced after its lease expires', async () => {
    const key = `killed-${Date.now()}`;
    const [holder] = workers(startWorker(service.url, key, 1, 600_000, 'dies', 1500));
    await go([holder]);
    await waitFor(() => holder.output().includes('loading'), 30_000, 'the holder to start loading');
    holder.child.kill('SIGKILL');
    // The lease is still held: a lease read is told the key is being filled.
    const during = await client.readWithLease(key, 1500);
    expect(during.entry).toBeNull();
    expect(during.filledByOtherMs).toBeGreaterThan(0);
    const [next] = workers(startWorker(service.url, key, 10, 10, 'next', 1500));
    await go([next]);
    const result = await next.result;
    expect(result.loads).toBe(1);
    expect(result.values).toEqual(Array(10).fill({ by: 'next' }));
  }, 120_000);

  test('a foreign or expired token is refused (409 LEASE_CONFLICT) and the stored entry is unchanged', async () => {
    const key = `token-${Date.now()}`;
    const stored = await client.set(key, 'kept', { ttl: 60, grace: 60 });
    const foreign = await client.set(key, 'intruder', { lease: 'not-a-lease' }).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(SkycacheError);
    expect(foreign).toMatchObject({ code: 'LEASE_CONFLICT', status: 409 });
    const short = await client.readWithLease(`${key}-miss`, 50);
    await waitFor(async () => (await client.readWithLease(`${key}-miss`, 60_000)).lease !== undefined, 10_000, 'the short lease to expire');
    await expect(client.set(`${key}-miss`, 'late', { lease: short.lease!.token })).rejects.toMatchObject({ code: 'LEASE_CONFLICT' });
    expect(await client.get(`${key}-miss`)).toBeNull();
    expect(await client.get(key)).toMatchObject({ value: 'kept', version: stored.version });
  });

  test('stale is served within grace and exactly one refresh runs, across 4 processes', async () => {
    const key = `stale-${Date.now()}`;
    await client.set(key, { by: 'original' }, { ttl: 1, grace: 120 });
    await waitFor(async () => (await client.ttl(key))?.stale === true, 10_000, 'the entry to turn stale');
    const group = workers(...Array.from({ length: 4 }, (_, i) => startWorker(service.url, key, 50, 500, `r${i}`, 10_000, 120)));
    await go(group);
    const results = await Promise.all(group.map((w) => w.result));
    expect(results.reduce((n, r) => n + r.loads, 0)).toBe(1);
    const refresher = `r${results.findIndex((r) => r.loads === 1)}`;
    // The refresher's calls answered the stale value at once (the refresh ran in its background); a call of
    // another process answered the stale value, or the refreshed one if it came after the refresh.
    expect(results.find((r) => r.loads === 1)!.values).toEqual(Array(50).fill({ by: 'original' }));
    for (const value of results.flatMap((r) => r.values)) expect([{ by: 'original' }, { by: refresher }]).toContainEqual(value);
    expect(await client.get(key)).toMatchObject({ value: { by: refresher }, stale: false, grace: 120 });
  }, 120_000);

  test('negative results are cached for negativeTtl and expire', async () => {
    const key = `negative-${Date.now()}`;
    let loads = 0;
    const loader = async () => {
      loads++;
      return undefined;
    };
    expect(await client.getOrSet(key, loader, { negativeTtl: 1 })).toBeUndefined();
    expect(await client.getOrSet(key, loader, { negativeTtl: 1 })).toBeUndefined();
    expect(loads).toBe(1);
    expect(await client.get(key)).toMatchObject({ value: null });
    await waitFor(async () => (await client.get(key)) === null, 10_000, 'the negative entry to expire');
    expect(await client.getOrSet(key, async () => 'found now', { negativeTtl: 1 })).toBe('found now');
    // Without negativeTtl a "not found" is not cached, and the lease is given back at once.
    const other = `${key}-uncached`;
    expect(await client.getOrSet(other, loader)).toBeUndefined();
    expect(await client.get(other)).toBeNull();
    expect((await client.readWithLease(other, 1000)).lease).toBeDefined();
  }, 60_000);

  test('a failed load gives the lease back: the next caller loads at once', async () => {
    const key = `fails-${Date.now()}`;
    await expect(client.getOrSet(key, async () => Promise.reject(new Error('source down')), { lease: 60_000 })).rejects.toThrow('source down');
    expect(await client.getOrSet(key, async () => 'recovered', { lease: 60_000, maxWaitMs: 1000 })).toBe('recovered');
  });

  test('write-through never leaves an older version in the cache under concurrent writers', async () => {
    const key = `through-${Date.now()}`;
    // The source of truth: each write gets the next version; the cache writes then race in random order.
    let sourceVersion = 0;
    const source = new Map<number, string>();
    const writers = Array.from({ length: 30 }, (_, i) =>
      client.writeThrough(key, `value ${i}`, async (value) => {
        const version = ++sourceVersion;
        source.set(version, value);
        await sleep(Math.random() * 50);
        return version;
      }),
    );
    const results = await Promise.all(writers);
    const newest = Math.max(...source.keys());
    expect(await client.get(key)).toMatchObject({ value: source.get(newest), version: newest });
    expect(results.filter((r) => r.written).length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((r) => !r.written)) expect(r.version).toBeGreaterThan(0);
  });

  test('write-behind flushes everything it acknowledged on a clean close, retrying failed batches', async () => {
    const prefix = `behind-${Date.now()}`;
    const persisted = new Map<string, unknown>();
    let calls = 0;
    const queue = client.writeBehind<number>({
      flushSize: 40,
      flushIntervalMs: 20,
      attempts: 5,
      persist: async (items) => {
        // Every third batch fails once: the retry persists it.
        if (++calls % 3 === 0) throw new Error('source busy');
        for (const item of items) persisted.set(item.key, item.value);
      },
    });
    const acknowledged = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 150 }, async (_, i) => {
        const key = `${prefix}:${i % 120}`;
        await queue.set(key, i);
        acknowledged.set(key, Math.max(acknowledged.get(key) ?? -1, i));
      }),
    );
    await queue.close();
    expect(queue.pending).toBe(0);
    expect(persisted.size).toBe(acknowledged.size);
    for (const [key, value] of acknowledged) expect(persisted.get(key)).toBe(value);
    // The cache got each write at once.
    expect((await client.get(`${prefix}:5`))?.value).toBe(125);

    // Bounded: a full queue refuses (nothing written) instead of growing.
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const small = client.writeBehind<number>({ maxQueue: 3, flushSize: 100, flushIntervalMs: 60_000, persist: () => blocked });
    for (let i = 0; i < 3; i++) await small.set(`${prefix}-small:${i}`, i);
    await expect(small.set(`${prefix}-small:3`, 3)).rejects.toBeInstanceOf(WriteBehindFullError);
    expect(await client.get(`${prefix}-small:3`)).toBeNull();
    release();
    await small.close();
  });

  test('the near cache revalidates with If-None-Match (304) and drops a key on the own write', async () => {
    const statuses: number[] = [];
    const near = new SkycacheClient({
      baseUrl: service.url,
      nearCache: { maxEntries: 10 },
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        statuses.push(response.status);
        return response;
      },
    });
    const key = `near-${Date.now()}`;
    await near.set(key, { big: 'x'.repeat(1000) });
    expect((await near.get(key))?.value).toEqual({ big: 'x'.repeat(1000) });
    expect((await near.get(key))?.value).toEqual({ big: 'x'.repeat(1000) });
    expect(statuses.slice(-2)).toEqual([200, 304]);
    await near.set(key, 'changed');
    expect(near.near?.get(key)).toBeUndefined();
    expect((await near.get(key))?.value).toBe('changed');
    // Another client's write: the revalidation sees the new version.
    await client.set(key, 'from elsewhere');
    expect((await near.get(key))?.value).toBe('from elsewhere');
    expect(statuses.slice(-2)).toEqual([200, 200]);
  });

  (kind === 'single node' ? test : test.skip)('every ts example of docs/client.md runs against the service', async () => {
    const blocks = [...readFileSync(join(ROOT, 'docs', 'client.md'), 'utf8').matchAll(/^```ts\n([\s\S]*?)^```/gm)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(5);
    const dir = mkdtempSync(join(tmpdir(), 'skycache-client-docs-'));
    try {
      for (const [i, block] of blocks.entries()) {
        const file = join(dir, `example-${i}.mts`);
        writeFileSync(file, block.replaceAll("'@skycache/client'", `'${join(ROOT, 'client', 'src', 'index.js')}'`));
        const { stdout } = await run(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, env: { ...process.env, SKYCACHE: service.url } });
        expect(stdout).not.toBe('');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  test('every route family is reachable through the typed calls', async () => {
    const key = `families-${Date.now()}`;
    expect((await client.lists.push(key, [1, 2])).size).toBe(2);
    expect((await client.lists.range(key)).values).toEqual([1, 2]);
    expect((await client.sets.add(`${key}-s`, ['a'])).added).toBe(1);
    expect((await client.hashes.getAll((await client.hashes.set(`${key}-h`, { f: 1 }), `${key}-h`))).fields).toEqual({ f: 1 });
    expect((await client.increment(`${key}-c`, 5)).value).toBe(5);
    expect(await client.batchGet([`${key}-c`, `${key}-none`])).toMatchObject([{ found: true, value: 5 }, { found: false }]);
    expect((await client.topics.publish(`${key}-t`, { hello: 1 })).id).toBeDefined();
    const answer = await client.route('getSortedSetSize', { params: { key: `${key}-z` } });
    expect(answer.body).toMatchObject({ size: 0 });
    await expect(client.route('getListRange', { params: { key: `${key}-none` } })).rejects.toMatchObject({ code: 'NOT_FOUND', status: 404 });
  });
});
