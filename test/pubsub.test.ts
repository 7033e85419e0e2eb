import { startLocalServer, type LocalServer } from '../lambdas/local/server';
import { changeStreamKeyForSlot } from '../lambdas/core/keyspace';
import { changeEventsSuite, httpClient, PUBSUB_ENV, pubsubSuite } from './support/pubsub';
import { useRedisServer } from './support/redis';

/** Pub/sub topics and change events over HTTP, on a single Redis (docs/pubsub.md). */
const redis = useRedisServer({}, PUBSUB_ENV);
let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer();
});
afterAll(() => server.close());
beforeEach(() => redis.client.flushall());

describe('topics on a single Redis', () => pubsubSuite(() => server));

describe('change events on a single Redis', () => {
  changeEventsSuite(() => server, () => '/changes');

  test('one change stream holds every key; a failed conditional write leaves it untouched', async () => {
    const call = httpClient(() => server);
    const created = await call('POST', '/cache', { key: 'a', value: 1 });
    expect((await call('POST', '/cache', { key: 'a', value: 2, ifVersion: created.json.version + 1 })).status).toBe(409);
    expect(await redis.client.xlen(changeStreamKeyForSlot(null))).toBe(1);
    const read = await call('GET', '/changes?wait=0');
    expect(read.json.messages.map((m: { data: unknown }) => m.data)).toEqual([{ key: 'a', op: 'set', version: created.json.version, tags: [] }]);
  });
});
