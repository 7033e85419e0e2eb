import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import Redis from 'ioredis';
import { startRedisProcess, type RedisProcess } from '../lambdas/local/redis-process';
import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { forgetCachedCredentials } from '../lambdas/core/redis';
import { restoreServiceEnv, setServiceEnv } from './support/env';

/**
 * RBAC from Secrets Manager end to end: a redis-server that requires a user and password, the handlers reading
 * them from the secret named by REDIS_AUTH_SECRET_ARN. The control plane cannot be reached from here (no AWS
 * account, no internet), so the SDK client is mocked; Redis and the handlers are real.
 */
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:skycache-redis-AbCdEf';
const secrets = mockClient(SecretsManagerClient);
let redis: RedisProcess;
let server: LocalServer;

beforeAll(async () => {
  redis = await startRedisProcess();
  // An RBAC user for the service; the unauthenticated default user is switched off.
  const admin = new Redis(redis.url);
  await admin.acl('SETUSER', 'skycache', 'on', '>s3cret-pw', '~*', '&*', '+@all');
  await admin.acl('SETUSER', 'default', 'off');
  admin.disconnect();
  server = await startLocalServer();
});
afterAll(async () => {
  await server?.close();
  await restoreServiceEnv();
  await redis?.stop();
  secrets.restore();
});
beforeEach(() => {
  secrets.reset();
  forgetCachedCredentials();
});

const write = () =>
  fetch(`${server.url}/cache`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ key: 'auth', value: 1 }),
  });

test('the username and password come from the secret, fetched once for many requests', async () => {
  secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ username: 'skycache', password: 's3cret-pw' }) });
  await setServiceEnv({ REDIS_URL: redis.url, REDIS_AUTH_SECRET_ARN: ARN, REDIS_TIMEOUT_MS: '1000' });
  for (let i = 0; i < 5; i++) expect((await write()).status).toBeLessThan(300);
  expect((await fetch(`${server.url}/cache/auth`)).status).toBe(200);
  expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
});

test('an unreadable secret is a 503 (retried on the next request), never a 500', async () => {
  secrets.on(GetSecretValueCommand).rejectsOnce(new Error('AccessDeniedException')).resolves({
    SecretString: JSON.stringify({ username: 'skycache', password: 's3cret-pw' }),
  });
  await setServiceEnv({ REDIS_URL: redis.url, REDIS_AUTH_SECRET_ARN: ARN, REDIS_TIMEOUT_MS: '1000' });
  const first = await write();
  expect(first.status).toBe(503);
  expect(((await first.json()) as { error: { message: string } }).error.message).toContain('Secrets Manager');
  expect((await write()).status).toBeLessThan(300);
});

test('without the credentials the server refuses us: 503, not 500', async () => {
  await setServiceEnv({ REDIS_URL: redis.url, REDIS_AUTH_SECRET_ARN: undefined, REDIS_TIMEOUT_MS: '500' });
  expect((await write()).status).toBe(503);
});
