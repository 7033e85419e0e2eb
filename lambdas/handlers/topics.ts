import { isMessageId, type ChangeScope, type TopicReadResult } from '../domain/topics';
import { CacheError } from '../core/errors';
import { json, type HttpResult } from '../http/results';
import { HASH_SLOTS } from '../core/keyspace';
import { routedHandler, type RouteRequest } from '../http/middleware';
import { topicsRoutes } from '../routes';
import { integerParam } from '../http/query';
import { provideStores } from '../services';
import { topicStore } from '../stores/topics';

/** Most messages one subscribe answer carries. */
const MAX_LIMIT = 1000;
/** Reconnection delay an EventSource is told to use (`retry:`) after an answer ends. */
const SSE_RETRY_MS = 1000;

/** after (query) or Last-Event-ID (SSE resume), limit and wait (seconds, at most the configured bound). */
function readOptions(request: RouteRequest<unknown>) {
  const after = request.query('after') ?? request.header('last-event-id');
  if (after !== undefined && after !== '' && !isMessageId(after)) {
    throw new CacheError('VALIDATION_FAILED', `after: must be a message id as answered by the API (<ms>-<sequence>), not "${after}"`);
  }
  const maxWaitSeconds = request.services.config.topics.maxWaitMs / 1000;
  const wait = integerParam(request.query('wait'), 'wait', maxWaitSeconds, 0);
  if (wait > maxWaitSeconds) throw new CacheError('VALIDATION_FAILED', `wait: must be at most ${maxWaitSeconds} seconds`);
  const limit = integerParam(request.query('limit'), 'limit', 100, 1);
  if (limit > MAX_LIMIT) throw new CacheError('VALIDATION_FAILED', `limit: must be at most ${MAX_LIMIT}`);
  return { after: after || undefined, limit, waitMs: wait * 1000 };
}

function wantsEventStream(request: RouteRequest<unknown>): boolean {
  return /\btext\/event-stream\b/i.test(request.header('accept') ?? '');
}

/**
 * One batch as Server-Sent Events: `missed` first when some were lost, then one event per message (`id:` = the
 * message id, so the client's Last-Event-ID resumes after it), and, when there are none, the cursor alone as an
 * `id:` line (it moves Last-Event-ID without dispatching an event) with a comment as a heartbeat.
 */
export function eventStreamText(batch: TopicReadResult): string {
  let text = `retry: ${SSE_RETRY_MS}\n\n`;
  if (batch.missed) text += `event: missed\ndata: ${JSON.stringify({ missed: true, next: batch.next })}\n\n`;
  for (const m of batch.messages) text += `id: ${m.id}\ndata: ${JSON.stringify(m.data)}\n\n`;
  if (batch.messages.length === 0) text += `: heartbeat\n${batch.next ? `id: ${batch.next}\n` : ''}\n`;
  return text;
}

/** JSON `{messages, next, missed}` (long-poll), or the batch as text/event-stream when the client asks for SSE. */
function answer(request: RouteRequest<unknown>, batch: TopicReadResult): HttpResult {
  if (!wantsEventStream(request)) return json(200, batch);
  return { status: 200, body: eventStreamText(batch), headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' } };
}

function changeScope(request: RouteRequest<unknown>): ChangeScope {
  if (request.query('key') !== undefined) return { key: request.key() };
  const slot = request.query('slot');
  if (slot === undefined) return {};
  const n = integerParam(slot, 'slot', 0, 0);
  if (n >= HASH_SLOTS) throw new CacheError('VALIDATION_FAILED', `slot: must be below ${HASH_SLOTS}`);
  return { slot: n };
}

provideStores(topicStore);

/** Publish to a topic; subscribe to a topic or to change events (long-poll, or SSE batches). See docs/pubsub.md. */
export const handler = routedHandler({
  publishMessage: {
    handle: async (request) => json(201, await request.services.topics.publish(request.key('topic'), request.body.message)),
  },
  subscribeTopic: {
    handle: async (request) => {
      const topic = request.key('topic');
      return answer(request, await request.services.topics.readTopic(topic, readOptions(request)));
    },
    // The wait may use the function's time (bounded by TOPIC_MAX_WAIT_SECONDS), not one command's.
    keyspaceWide: true,
  },
  subscribeChanges: {
    handle: async (request) => {
      const { topics } = request.services;
      if (!request.services.config.topics.changeEvents) {
        throw new CacheError('NOT_FOUND', 'change events are off in this deployment (CHANGE_EVENTS=true turns them on)');
      }
      const stream = topics.changeStream(changeScope(request));
      return answer(request, await topics.read(stream, readOptions(request)));
    },
    keyspaceWide: true,
  },
}, topicsRoutes);
