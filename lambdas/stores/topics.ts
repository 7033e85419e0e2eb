import { BlockingConnections } from '../core/blocking-redis';
import { TopicStore, withTopicScripts } from '../domain/topics';
import type { StoreProvider } from '../services';

/** Dedicated blocking connections one process may hold (one per concurrent long-poll or SSE stream). */
const MAX_BLOCKING_CONNECTIONS = 200;

/** Pub/sub topics and change streams (see lambdas/stores/entries.ts); long-polls block on dedicated connections. */
export const topicStore: StoreProvider<'topics'> = {
  name: 'topics',
  build: ({ redis, config }) =>
    new TopicStore(
      redis,
      config.topics,
      new BlockingConnections(redis, { maxConnections: MAX_BLOCKING_CONNECTIONS, commandTimeoutMs: config.topics.maxWaitMs + config.redisTimeoutMs }),
    ),
  scripts: [withTopicScripts],
  close: (topics) => topics.close(),
};
