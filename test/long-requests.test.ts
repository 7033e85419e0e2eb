import { handler as invalidate } from '../lambdas/handlers/invalidate';
import { handler as getEntry } from '../lambdas/handlers/get-entry';
import { entryKey } from '../lambdas/core/keyspace';
import { jsonEvent, lambdaContext, proxyEvent } from './support/events';
import { useRedisServer } from './support/redis';

// A deliberately short per-request Redis deadline: prefix invalidation of 150k keys takes far longer than it (about
// 2 s). Not shorter: each of the job's own commands must still answer within it on a loaded 2-core machine (at 100 ms
// one SCAN or UNLINK batch sometimes did not, a 503 that had nothing to do with the job's length).
const REDIS_TIMEOUT_MS = 300;
const redis = useRedisServer({}, { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS) });

const withRemaining = (ms: number) => ({ ...lambdaContext, getRemainingTimeInMillis: () => ms });

test('prefix invalidation may use the function time left, beyond REDIS_TIMEOUT_MS, and finishes the job', async () => {
  const pipeline = redis.client.pipeline();
  for (let i = 0; i < 150_000; i++) pipeline.set(entryKey(`bulk:${i}`), `1:0:0:${i}`);
  await pipeline.exec();
  const started = Date.now();
  const res = await invalidate(jsonEvent('POST', '/cache/invalidate', { prefix: 'bulk:' }), withRemaining(30_000));
  const elapsed = Date.now() - started;
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body)).toEqual({ invalidated: 150_000 });
  console.log(`invalidated 150k keys in ${elapsed} ms with REDIS_TIMEOUT_MS=${REDIS_TIMEOUT_MS}`);
  expect(await redis.client.dbsize()).toBe(0);
});

test('single-key requests keep the short deadline whatever time the function has left', async () => {
  await redis.client.set(entryKey('k'), '1:0:0:1');
  const res = await getEntry(proxyEvent({ resource: '/cache/{key}', pathParameters: { key: 'k' } }), withRemaining(30_000));
  expect(res.statusCode).toBe(200);
  // The Redis server stops answering: the request is cut at REDIS_TIMEOUT_MS, not at the function's timeout.
  await redis.client.call('CLIENT', 'PAUSE', '1500', 'ALL');
  const started = Date.now();
  const paused = await getEntry(proxyEvent({ resource: '/cache/{key}', pathParameters: { key: 'k' } }), withRemaining(30_000));
  expect(paused.statusCode).toBe(503);
  expect(Date.now() - started).toBeLessThan(1000);
});
