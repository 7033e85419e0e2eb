import { startLocalServer } from '../../lambdas/local/server';
import { resetRuntimeConfig } from '../../lambdas/core/config';
import { closeServices } from '../../lambdas/services';
import { withEnv } from '../lib/handlers';
import type { SectionResult } from '../lib/report';
import { fmtInt, fmtMs, Samples, sleep } from '../lib/stats';

export interface PubSubOptions {
  redisUrl: string;
  /** Messages whose publish → receive latency is measured, per subscription kind. */
  messages: number;
  /** Seconds of the throughput run. */
  seconds: number;
  /** Concurrent publishers in the throughput run. */
  publishers: number;
}

type Message = { sentAt: number; n: number };

/** Publishes one message per `gapMs` (each finds the subscriber waiting) and records when each was sent. */
async function publishSpaced(url: string, topic: string, count: number, gapMs: number): Promise<void> {
  for (let n = 0; n < count; n++) {
    const message: Message = { sentAt: performance.now(), n };
    const res = await fetch(`${url}/topics/${topic}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ message }) });
    if (res.status !== 201) throw new Error(`publish answered ${res.status}`);
    await res.arrayBuffer();
    await sleep(gapMs);
  }
}

/** A long-poll subscriber: latency = receive time − the publisher's send time (same process, monotonic clock). */
async function longPollLatency(url: string, topic: string, count: number): Promise<Samples> {
  const samples = new Samples();
  let after = '';
  const subscriber = (async () => {
    while (samples.count < count) {
      const res = await fetch(`${url}/topics/${topic}/messages?wait=20${after ? `&after=${after}` : ''}`);
      const body = (await res.json()) as { messages: { id: string; data: Message }[]; next: string | null };
      const now = performance.now();
      for (const m of body.messages) samples.add((now - m.data.sentAt) * 1000);
      after = body.next ?? after;
    }
  })();
  await sleep(50);
  await publishSpaced(url, topic, count, 10);
  await subscriber;
  return samples;
}

/** An SSE subscriber on the local server's streaming path. */
async function sseLatency(url: string, topic: string, count: number): Promise<Samples> {
  const samples = new Samples();
  const controller = new AbortController();
  const res = await fetch(`${url}/topics/${topic}/messages`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const subscriber = (async () => {
    let buffer = '';
    while (samples.count < count) {
      const chunk = await reader.read();
      if (chunk.done) break;
      const now = performance.now();
      buffer += decoder.decode(chunk.value, { stream: true });
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1];
        buffer = buffer.slice(end + 2);
        if (data && data.includes('sentAt')) samples.add((now - (JSON.parse(data) as Message).sentAt) * 1000);
      }
    }
  })();
  await publishSpaced(url, topic, count, 10);
  await subscriber;
  controller.abort();
  return samples;
}

/** Concurrent publishers for `seconds`, one long-poll subscriber draining: messages/s published and delivered. */
async function throughput(url: string, topic: string, seconds: number, publishers: number) {
  let published = 0;
  let received = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const publishing = Promise.all(
    Array.from({ length: publishers }, async () => {
      while (performance.now() < until) {
        const res = await fetch(`${url}/topics/${topic}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"message":{"n":1}}' });
        await res.arrayBuffer();
        if (res.status === 201) published++;
      }
    }),
  );
  let after = '';
  let publishedAll = false;
  void publishing.then(() => (publishedAll = true));
  while (!publishedAll || received < published) {
    const res = await fetch(`${url}/topics/${topic}/messages?limit=1000&wait=1${after ? `&after=${after}` : ''}`);
    const body = (await res.json()) as { messages: unknown[]; next: string | null; missed: boolean };
    if (body.missed) throw new Error('the throughput subscriber fell behind the retention');
    received += body.messages.length;
    after = body.next ?? after;
  }
  const elapsed = (performance.now() - started) / 1000;
  return { published, publishedPerSecond: published / seconds, deliveredPerSecond: received / elapsed };
}

/**
 * Pub/sub through the local HTTP server (the handlers, real Redis): publish → receive latency for a long-poll
 * subscriber and an SSE subscriber (one message every 10 ms, so each finds the subscriber waiting), and messages
 * per second with concurrent publishers and one subscriber draining in pages of 1000.
 */
export async function pubsub(o: PubSubOptions): Promise<SectionResult> {
  // The throughput subscriber must never fall behind the retention.
  const vars = { REDIS_URL: o.redisUrl, TOPIC_RETENTION_MESSAGES: '1000000' };
  try {
    return await withEnv(vars, () => measure(o));
  } finally {
    resetRuntimeConfig();
  }
}

async function measure(o: PubSubOptions): Promise<SectionResult> {
  resetRuntimeConfig();
  await closeServices();
  const server = await startLocalServer();
  const run = Date.now().toString(36);
  try {
    const longPoll = await longPollLatency(server.url, `bench:lp:${run}`, o.messages);
    const sse = await sseLatency(server.url, `bench:sse:${run}`, o.messages);
    const rate = await throughput(server.url, `bench:rate:${run}`, o.seconds, o.publishers);
    const row = (name: string, s: Samples) => [name, fmtInt(s.count), fmtMs(s.percentile(50) / 1000), fmtMs(s.percentile(99) / 1000)];
    return {
      title: 'Pub/sub: publish → receive latency and messages per second',
      method:
        'Through the local HTTP server over a private redis-server: a publisher POSTs one message every 10 ms carrying its send time; a long-poll subscriber ' +
        '(GET …/messages?after=…&wait=20, each answer followed at once by the next poll) and an SSE subscriber (Accept: text/event-stream) record receive − send ' +
        `on the same monotonic clock. Throughput: ${o.publishers} concurrent publishers for ${o.seconds} s while one long-poll subscriber drains pages of up to 1000.`,
      tables: [
        { header: ['subscriber', 'messages', 'p50', 'p99'], rows: [row('long-poll', longPoll), row('SSE (local server)', sse)] },
        {
          header: ['publishers', 'published', 'published / s', 'delivered / s (until the subscriber caught up)'],
          rows: [[String(o.publishers), fmtInt(rate.published), fmtInt(rate.publishedPerSecond), fmtInt(rate.deliveredPerSecond)]],
        },
      ],
      targets: [],
      notes: [
        'A long-poll subscriber pays one HTTP round trip per answer; between two polls a message waits in the stream, never lost (the next poll starts after the last id).',
        'SSE on the local server re-invokes the handler after each batch on the open response, so its latency is the same wake-up (XREAD BLOCK on a dedicated connection) without the new request.',
      ],
    };
  } finally {
    await server.close();
    await closeServices();
  }
}
