import { mockClient } from 'aws-sdk-client-mock';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { SecretsManagerSource } from '../lambdas/core/redis';
import { ApiKeys, keyDigest, loadApiKeys, parseKeyHashes } from '../lambdas/server/api-keys';
import { loadServerSettings } from '../lambdas/server/settings';
import { apiHandlers } from '../lambdas/handlers';
import { handlerModules, routes } from '../lambdas/routes';
import { call, holdRequest, isRunning, killLeftovers, refused, SERVER_ENTRY, startServiceProcess, waitFor, type Answer, type ServiceProcess } from './support/service-process';

// Each test starts or restarts processes (tsx transpiles at start): generous bounds for a loaded machine.
jest.setTimeout(180_000);

const KEY = 'test-key-1';
const OTHER_KEY = 'test-key-2';

describe('API keys', () => {
  test('only the digests are held; a key is checked against each, in constant time', () => {
    const keys = ApiKeys.fromDigests([keyDigest(KEY), keyDigest(OTHER_KEY)]);
    expect(keys.check(undefined)).toBe('missing');
    expect(keys.check('')).toBe('missing');
    expect(keys.check('nope')).toBe('wrong');
    expect(keys.check(KEY)).toBe('ok');
    expect(keys.check(OTHER_KEY)).toBe('ok');
  });

  test('the secret form is checked and never echoed', () => {
    expect(parseKeyHashes(JSON.stringify({ sha256: [keyDigest(KEY).toUpperCase()] }), 'secret s')).toEqual([keyDigest(KEY)]);
    expect(() => parseKeyHashes('not json', 'secret s')).toThrow('secret s is not JSON');
    expect(() => parseKeyHashes('{"keys":[]}', 'secret s')).toThrow('has no "sha256" list');
    expect(() => parseKeyHashes('{"sha256":[]}', 'secret s')).toThrow('lists no API key hash');
    const leaked = () => parseKeyHashes(JSON.stringify({ sha256: ['my-plain-key'] }), 'secret s');
    expect(leaked).toThrow('entry 1 is not a hex SHA-256 digest');
    expect(leaked).not.toThrow('my-plain-key');
  });

  test('deployed, the digests are read from the Secrets Manager secret the settings name', async () => {
    const sm = mockClient(SecretsManagerClient);
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:skycache-api-keys-AbCdEf';
    sm.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ sha256: [keyDigest(KEY)] }) });
    const settings = loadServerSettings({ API_KEY_HASHES_SECRET_ARN: arn });
    const keys = await loadApiKeys(settings.apiKeys, new SecretsManagerSource(new SecretsManagerClient({ region: 'eu-west-1' })));
    expect(keys?.check(KEY)).toBe('ok');
    // GetSecretValue takes the secret's ARN (or name) as SecretId, and nothing else is needed for the current version.
    expect(sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: arn }]);
    sm.restore();
  });

  test('locally, from API_KEY_HASHES or a file; none configured means none required', async () => {
    expect(await loadApiKeys(loadServerSettings({}).apiKeys)).toBeUndefined();
    const inline = await loadApiKeys(loadServerSettings({ API_KEY_HASHES: `${keyDigest(KEY)},${keyDigest(OTHER_KEY)}` }).apiKeys);
    expect(inline?.size).toBe(2);
    const dir = mkdtempSync(join(tmpdir(), 'skycache-keys-'));
    try {
      writeFileSync(join(dir, 'keys.json'), JSON.stringify({ sha256: [keyDigest(KEY)] }));
      const fromFile = await loadApiKeys(loadServerSettings({ API_KEY_HASHES_FILE: join(dir, 'keys.json') }).apiKeys);
      expect(fromFile?.check(KEY)).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(() => loadServerSettings({ API_KEY_HASHES: 'a', API_KEY_HASHES_FILE: 'b' })).toThrow('give one of');
    expect(() => loadServerSettings({ MAX_IN_FLIGHT: '0' })).toThrow('MAX_IN_FLIGHT');
  });
});

describe('the production server serves the route table with the Lambda handlers\' own operations', () => {
  test('every handler module of the route table is in the static registry, and serves each of its routes', () => {
    expect(Object.keys(apiHandlers).sort()).toEqual(handlerModules().sort());
    for (const route of routes) expect(apiHandlers[route.handler].operations.get(route.id)?.route).toBe(route);
  });
});

describe('the production server, as a process (primary + workers) over a real Redis', () => {
  let redis: RedisProcess;
  let service: ServiceProcess;
  beforeAll(async () => {
    redis = await startRedisProcess();
    service = await startServiceProcess({
      entry: SERVER_ENTRY,
      env: {
        REDIS_URL: redis.url,
        HOST: '127.0.0.1',
        WORKERS: '2',
        MAX_IN_FLIGHT: '1',
        API_KEY_HASHES: keyDigest(KEY),
        REDIS_TIMEOUT_MS: '500',
        ACCESS_LOG_SAMPLE_RATE: '1',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        METRICS_INTERVAL_MS: '1000',
      },
    });
  });
  afterAll(async () => {
    if (service) {
      process.kill(service.serverPid, 'SIGTERM');
      await service.exited;
    }
    await redis?.stop();
  });
  const auth = { 'x-api-key': KEY };
  const jsonLines = () => service.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));

  test('x-api-key: 401 without a key, 403 with a wrong one, served with a right one; JSON errors', async () => {
    const missing = await call(service.url, 'GET', '/cache/k');
    expect(missing.status).toBe(401);
    expect(missing.json?.error?.code).toBe('UNAUTHORIZED');
    expect(missing.headers['x-request-id']).toBeTruthy();
    const wrong = await call(service.url, 'GET', '/cache/k', { headers: { 'x-api-key': OTHER_KEY } });
    expect(wrong.status).toBe(403);
    expect(wrong.json?.error?.code).toBe('FORBIDDEN');
    // An unknown route is not revealed to a caller without a key either.
    expect((await call(service.url, 'GET', '/nowhere')).status).toBe(401);
    const written = await call(service.url, 'POST', '/cache', { body: { key: 'k', value: { n: 1 } }, headers: auth });
    expect(written.status).toBe(201);
    const read = await call(service.url, 'GET', '/cache/k', { headers: auth });
    expect(read.status).toBe(200);
    expect(read.json).toMatchObject({ key: 'k', value: { n: 1 }, version: written.json!.version });
  });

  test('JSON access logs name the route, never the key; request metrics carry API Gateway\'s names', async () => {
    const answer = await call(service.url, 'GET', '/cache/secret-key-name', { headers: auth });
    const requestId = answer.headers['x-request-id'];
    await waitFor(() => jsonLines().some((j) => j.access?.requestId === requestId), 30_000, 'the access log line');
    const access = jsonLines().find((j) => j.access?.requestId === requestId);
    expect(access).toMatchObject({ level: 'INFO', message: 'request', service: 'skycache' });
    expect(access.access).toMatchObject({ method: 'GET', resourcePath: '/cache/{key}', status: 404, ip: '127.0.0.1' });
    expect(JSON.stringify(access)).not.toContain('secret-key-name');
    const isMetrics = (j: Record<string, unknown>) => j._aws !== undefined && (j['4XXError'] as number) > 0;
    await waitFor(() => jsonLines().some(isMetrics), 30_000, 'a metrics line');
    const emf = jsonLines().find(isMetrics);
    expect(emf._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: 'skycache', Dimensions: [['service']] });
    expect(emf._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toEqual(['Count', '4XXError', '5XXError', 'InFlightRejected', 'Latency']);
    expect(emf.Count).toBeGreaterThanOrEqual(emf['4XXError']);
  });

  test('more than one worker serves, and a worker that dies is replaced', async () => {
    const pids = new Set<number>();
    await waitFor(
      async () => {
        const r = await call(service.url, 'GET', '/healthz');
        expect(r.status).toBe(200);
        pids.add(r.json!.pid as number);
        return pids.size >= 2;
      },
      60_000,
      'two workers to answer',
    );
    expect(pids.has(service.serverPid)).toBe(false);
    const [victim] = pids;
    process.kill(victim, 'SIGKILL');
    await waitFor(async () => !pids.has((await call(service.url, 'GET', '/healthz')).json!.pid as number), 60_000, 'a new worker to answer');
    expect(service.output()).toContain(`(pid ${victim}) died (SIGKILL); starting a new one`);
  });

  test('past MAX_IN_FLIGHT requests in flight, a worker answers 503 with Retry-After at once; health routes still answer', async () => {
    const held = await holdRequest(service.port, '/cache', { key: 'held', value: 'x'.repeat(64) }, auth);
    // The held request occupies its worker's only slot: that worker refuses the next API request.
    let refusal: Answer | undefined;
    await waitFor(
      async () => {
        const r = await call(service.url, 'GET', '/cache/k', { headers: auth });
        if (r.status === 503) refusal = r;
        return refusal !== undefined;
      },
      30_000,
      'a worker to refuse a request',
    );
    expect(refusal!.headers['retry-after']).toBe('1');
    expect(refusal!.json?.error?.code).toBe('UNAVAILABLE');
    expect(refusal!.json?.error?.message).toContain('limit of 1 requests in flight');
    for (let i = 0; i < 4; i++) expect((await call(service.url, 'GET', '/healthz')).status).toBe(200);
    expect(await held.finish()).toMatch(/^HTTP\/1.1 201/);
    // The slot is free again.
    for (let i = 0; i < 4; i++) expect((await call(service.url, 'GET', '/cache/held', { headers: auth })).status).toBe(200);
  });

  test('/healthz never needs Redis; /readyz fails while Redis is down and recovers without a restart', async () => {
    expect((await call(service.url, 'GET', '/readyz')).status).toBe(200);
    redis.kill();
    // Every worker must notice: ask until four answers in a row agree (connections alternate between workers).
    const streakOf = async (status: number) => {
      let streak = 0;
      await waitFor(
        async () => {
          const r = await call(service.url, 'GET', '/readyz');
          if (r.status === 503) expect(r.json?.error?.code).toBe('UNAVAILABLE');
          streak = r.status === status ? streak + 1 : 0;
          return streak >= 4;
        },
        60_000,
        `/readyz to answer ${status} on every worker`,
      );
    };
    await streakOf(503);
    expect((await call(service.url, 'GET', '/healthz')).status).toBe(200);
    await redis.restart();
    await streakOf(200);
    expect((await call(service.url, 'GET', '/cache/held', { headers: auth })).status).toBe(404);
  });
});

describe('npm start, as a process', () => {
  let service: ServiceProcess | undefined;
  afterEach(() => killLeftovers(service?.launcher.pid, service?.serverPid, service?.redisPid));

  test('SIGTERM: the request in flight completes, new connections are refused, the private redis-server is gone, exit 0', async () => {
    service = await startServiceProcess({ env: { WORKERS: '2', MAX_IN_FLIGHT: '1', SHUTDOWN_GRACE_MS: '30000' } });
    const { url, port, redisPid } = service;
    expect(isRunning(redisPid!)).toBe(true);
    const held = await holdRequest(port, '/cache', { key: 'in-flight', value: 'y'.repeat(64) });
    // Known to be in flight once its worker refuses another request (MAX_IN_FLIGHT=1).
    await waitFor(async () => (await call(url, 'GET', '/cache/x')).status === 503, 30_000, 'the held request to be in flight');
    process.kill(service.serverPid, 'SIGTERM');
    await waitFor(() => refused(port), 30_000, 'new connections to be refused');
    const answer = await held.finish();
    expect(answer).toMatch(/^HTTP\/1.1 201/);
    expect(answer).toContain('"key":"in-flight"');
    await service.exited;
    expect(service.launcher.exitCode).toBe(0);
    expect(isRunning(redisPid!)).toBe(false);
    expect(service.output()).toContain('SIGTERM received, shutting down');
  });
});
