import type { LocalServer } from '../../lambdas/local/server';
import { topicKey } from '../../lambdas/core/keyspace';
import { primaries } from '../../lambdas/core/redis';
import { services } from '../../lambdas/services';

/** The settings both pub/sub suites (single node, cluster) run with: short retention to test trimming. */
export const PUBSUB_ENV = {
  TOPIC_RETENTION_MESSAGES: '50',
  TOPIC_MAX_MESSAGE_BYTES: '2048',
  TOPIC_MAX_WAIT_SECONDS: '20',
  CHANGE_EVENTS: 'true',
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

export function httpClient(server: () => LocalServer) {
  return async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const res = await fetch(server().url + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json: Json;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  };
}

/** Reads a topic from `after` until a poll answers nothing (wait=0), following `next`. */
export async function drain(call: ReturnType<typeof httpClient>, path: string, after?: string) {
  const messages: { id: string; data: Json }[] = [];
  let missed = false;
  let cursor = after;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const r = await call('GET', `${path}${sep}wait=0&limit=1000${cursor ? `&after=${cursor}` : ''}`);
    expect(r.status).toBe(200);
    missed ||= r.json.missed;
    messages.push(...r.json.messages);
    if (r.json.messages.length === 0) return { messages, missed, next: r.json.next as string | null };
    cursor = r.json.next;
  }
}

/** Reads Server-Sent Events from an open response until `done` says so (or the timeout passes). */
export async function readEvents(
  response: Response,
  done: (events: { id?: string; event?: string; data?: string }[]) => boolean,
  timeoutMs = 30_000,
) {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const events: { id?: string; event?: string; data?: string }[] = [];
  let buffer = '';
  const deadline = Date.now() + timeoutMs;
  while (!done(events) && Date.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((r) => (timer = setTimeout(() => r(null), Math.max(1, deadline - Date.now()))));
    const chunk = await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
    if (!chunk || chunk.done) break;
    buffer += decoder.decode(chunk.value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const e: { id?: string; event?: string; data?: string } = {};
      for (const line of block.split('\n')) {
        const m = /^(id|event|data): ?(.*)$/.exec(line);
        if (m) e[m[1] as 'id' | 'event' | 'data'] = m[2];
      }
      if (e.data !== undefined) events.push(e);
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 20));
}

const compareIds = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am === bm ? (as < bs ? -1 : as > bs ? 1 : 0) : am < bm ? -1 : 1;
};

/** The pub/sub behaviour every deployment shape must have; `server` is a local server over the Redis under test. */
export function pubsubSuite(server: () => LocalServer) {
  const call = httpClient(server);

  test('messages keep their order per topic under concurrent publishers, with increasing ids', async () => {
    const topic = 'orders:concurrent';
    const publishers = 4;
    const perPublisher = 12; // 48 < the retention of 50
    await Promise.all(
      Array.from({ length: publishers }, async (_, p) => {
        for (let i = 0; i < perPublisher; i++) {
          const r = await call('POST', `/topics/${topic}/messages`, { message: { p, i } });
          expect(r.status).toBe(201);
          expect(r.json.id).toMatch(/^\d+-\d+$/);
        }
      }),
    );
    const { messages, missed } = await drain(call, `/topics/${topic}/messages`);
    expect(missed).toBe(false);
    expect(messages).toHaveLength(publishers * perPublisher);
    for (let i = 1; i < messages.length; i++) expect(compareIds(messages[i - 1].id, messages[i].id)).toBe(-1);
    for (let p = 0; p < publishers; p++) {
      expect(messages.filter((m) => m.data.p === p).map((m) => m.data.i)).toEqual(Array.from({ length: perPublisher }, (_, i) => i));
    }
  });

  test('a subscriber that resumes from its last id misses nothing within retention', async () => {
    const topic = 'resume';
    for (let i = 0; i < 10; i++) await call('POST', `/topics/${topic}/messages`, { message: i });
    const first = await call('GET', `/topics/${topic}/messages?limit=4&wait=0`);
    expect(first.json.messages.map((m: Json) => m.data)).toEqual([0, 1, 2, 3]);
    // away: more messages arrive
    for (let i = 10; i < 20; i++) await call('POST', `/topics/${topic}/messages`, { message: i });
    const rest = await drain(call, `/topics/${topic}/messages`, first.json.next);
    expect(rest.missed).toBe(false);
    expect(rest.messages.map((m) => m.data)).toEqual(Array.from({ length: 16 }, (_, i) => i + 4));
  });

  test('a subscriber that resumes past retention is told it missed messages', async () => {
    const topic = 'trimmed';
    const firstId = (await call('POST', `/topics/${topic}/messages`, { message: 0 })).json.id;
    for (let i = 1; i < 60; i++) await call('POST', `/topics/${topic}/messages`, { message: i });
    const resumed = await call('GET', `/topics/${topic}/messages?after=${firstId}&wait=0&limit=1000`);
    expect(resumed.json.missed).toBe(true);
    expect(resumed.json.messages.map((m: Json) => m.data)).toEqual(Array.from({ length: 50 }, (_, i) => i + 10));
    // From the oldest kept (no id) is not a gap; from the last id none is missed.
    expect((await call('GET', `/topics/${topic}/messages?wait=0`)).json.missed).toBe(false);
    expect((await call('GET', `/topics/${topic}/messages?wait=0&after=${resumed.json.next}`)).json).toMatchObject({ missed: false, messages: [] });
    // A topic that was removed (idle expiry, eviction) and published to again: a resume says so too.
    const lastId = resumed.json.next;
    await Promise.all(primaries(services().redis).map((n) => n.del(topicKey(topic)).catch(() => undefined)));
    expect((await call('GET', `/topics/${topic}/messages?wait=0&after=${lastId}`)).json).toMatchObject({ missed: true, messages: [] });
    await call('POST', `/topics/${topic}/messages`, { message: 'again' });
    const afterReset = await call('GET', `/topics/${topic}/messages?wait=0&after=${lastId}`);
    expect(afterReset.json).toMatchObject({ missed: true, messages: [{ data: 'again' }] });
  });

  test('a long-poll answers at once when messages exist, and within its bound when none do', async () => {
    const topic = 'longpoll';
    await call('POST', `/topics/${topic}/messages`, { message: 'ready' });
    let started = Date.now();
    const immediate = await call('GET', `/topics/${topic}/messages?wait=20`);
    expect(immediate.json.messages.map((m: Json) => m.data)).toEqual(['ready']);
    expect(Date.now() - started).toBeLessThan(15_000); // far below the 20 s it would otherwise wait

    started = Date.now();
    const none = await call('GET', `/topics/${topic}/messages?wait=1&after=${immediate.json.next}`);
    expect(none.status).toBe(200);
    expect(none.json).toEqual({ messages: [], next: immediate.json.next, missed: false });
    expect(Date.now() - started).toBeLessThan(15_000);

    // A waiting poll blocks on a dedicated connection (other requests go on), and is answered by the message
    // published while it waits, long before its bound.
    started = Date.now();
    const waiting = call('GET', `/topics/${topic}/messages?wait=20&after=${immediate.json.next}`);
    await until(() => services().topics.blockedWaits === 1);
    expect((await call('GET', '/cache/some-key')).status).toBe(404);
    await call('POST', `/topics/${topic}/messages`, { message: 'late' });
    expect((await waiting).json.messages.map((m: Json) => m.data)).toEqual(['late']);
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  test('Server-Sent Events stream messages and resume from Last-Event-ID', async () => {
    const topic = 'sse';
    const controller = new AbortController();
    const stream = await fetch(`${server().url}/topics/${topic}/messages`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await call('POST', `/topics/${topic}/messages`, { message: { n: i } })).json.id);
    const events = await readEvents(stream, (e) => e.length >= 3);
    controller.abort();
    expect(events.map((e) => [e.id, JSON.parse(e.data!)])).toEqual(ids.map((id, n) => [id, { n }]));

    // The client reconnects with the last id it processed and gets what followed, then the new ones.
    const resumeController = new AbortController();
    const resumed = await fetch(`${server().url}/topics/${topic}/messages`, {
      headers: { accept: 'text/event-stream', 'last-event-id': ids[1] },
      signal: resumeController.signal,
    });
    const late = (await call('POST', `/topics/${topic}/messages`, { message: { n: 3 } })).json.id;
    const again = await readEvents(resumed, (e) => e.length >= 2);
    resumeController.abort();
    expect(again.map((e) => e.id)).toEqual([ids[2], late]);
  });

  test('bad topic names, ids, limits and messages are 4xx naming the problem', async () => {
    const long = 'x'.repeat(1025);
    expect((await call('POST', `/topics/${long}/messages`, { message: 1 })).status).toBe(400);
    expect((await call('POST', '/topics/t/messages', {})).json.error.message).toMatch(/message/);
    const big = await call('POST', '/topics/t/messages', { message: 'y'.repeat(3000) });
    expect(big.status).toBe(413);
    expect((await call('GET', '/topics/t/messages?after=yesterday')).json.error.message).toMatch(/after/);
    expect((await call('GET', '/topics/t/messages?after=18446744073709551616-0')).status).toBe(400);
    expect((await call('GET', '/topics/t/messages?wait=60')).json.error.message).toMatch(/wait/);
    expect((await call('GET', '/topics/t/messages?limit=0')).json.error.message).toMatch(/limit/);
  });
}

/**
 * Change events must match the writes one for one: concurrent writers on shared keys (conditional writes that
 * fail emit nothing), deletes, TTL changes and invalidations, compared with the events read back per key.
 */
export function changeEventsSuite(server: () => LocalServer, changesPath: (key: string) => string) {
  // changesPath: the change stream that holds `key` (the same path for keys that share one), read from its oldest.
  const call = httpClient(server);

  test('change events match the successful writes one for one under concurrent writers', async () => {
    const keys = Array.from({ length: 6 }, (_, i) => `chg:${i}`);
    const expected: string[] = [];
    // Versions are unique across a key's lifetimes (docs/entries-advanced.md), so each event names the last write's.
    const versions = new Map<string, number>();
    const record = (key: string, op: string, version: number, tags: string[] = []) => {
      versions.set(key, version);
      expected.push(JSON.stringify({ key, op, version, tags }));
    };
    const current = (key: string) => versions.get(key)!;

    await Promise.all(
      keys.map(async (key) => {
        const created = await call('POST', '/cache', { key, value: 0, tags: ['t1'] });
        record(key, 'set', created.json.version, ['t1']);
        // Eight concurrent writers all expect the created version: exactly one succeeds, seven fail and emit nothing.
        const racers = await Promise.all(
          Array.from({ length: 8 }, (_, i) => call('POST', '/cache', { key, value: i + 1, ifVersion: created.json.version, tags: ['t1'] })),
        );
        const won = racers.filter((r) => r.status === 200);
        expect(won).toHaveLength(1);
        expect(racers.filter((r) => r.status === 409)).toHaveLength(7);
        record(key, 'set', won[0].json.version, ['t1']);
        expect((await call('POST', '/cache', { key, value: 'x', ifAbsent: true })).status).toBe(409);
        expect((await call('PUT', `/cache/${key}/ttl`, { ttl: 600 })).status).toBe(200);
        record(key, 'touch', current(key), ['t1']);
        expect((await call('DELETE', `/cache/${key}/ttl`)).status).toBe(200);
        record(key, 'persist', current(key), ['t1']);
        const counter = await call('POST', `/counters/${key}:n`, { by: 2 });
        record(`${key}:n`, 'set', counter.json.version);
      }),
    );
    // Invalidation by tag, by key and by prefix; plain deletes (one of nothing: no event).
    expect((await call('POST', '/cache/invalidate', { tags: ['t1'], keys: [] as string[] }).then((r) => r.status))).toBe(400);
    const byTag = await call('POST', '/cache/invalidate', { tags: ['t1'] });
    expect(byTag.json.invalidated).toBe(keys.length);
    for (const key of keys) record(key, 'invalidate', current(key), ['t1']);
    expect((await call('DELETE', `/cache/${keys[0]}:n`)).status).toBe(204);
    record(`${keys[0]}:n`, 'delete', current(`${keys[0]}:n`));
    expect((await call('DELETE', `/cache/${keys[0]}:n`)).status).toBe(404);
    expect((await call('POST', '/cache/invalidate', { keys: [`${keys[1]}:n`] })).json.invalidated).toBe(1);
    record(`${keys[1]}:n`, 'invalidate', current(`${keys[1]}:n`));
    expect((await call('POST', '/cache/invalidate', { prefix: `${keys[2]}:` })).json.invalidated).toBe(1);
    record(`${keys[2]}:n`, 'invalidate', current(`${keys[2]}:n`));

    const seen: string[] = [];
    const streams = new Set<string>();
    for (const key of [...keys, ...keys.map((k) => `${k}:n`)]) {
      const path = changesPath(key);
      if (streams.has(path)) continue;
      streams.add(path);
      const { messages, missed } = await drain(call, path);
      expect(missed).toBe(false);
      for (const m of messages) if (m.data.key.startsWith('chg:')) seen.push(JSON.stringify(m.data));
    }
    expect(seen.sort()).toEqual(expected.sort());
  });
}
