/**
 * Stands in for ioredis's built/cluster/ClusterSubscriberGroup (and the ShardedSubscriber it alone imports, 8 KB
 * minified) in the bundles (lib/bundling.ts). The cluster client creates it only with `shardedSubscribers: true`,
 * for SSUBSCRIBE; skycache's clusterOptions (lambdas/core/redis.ts) never set it: its pub/sub is Redis Streams and
 * XREAD (lambdas/domain/topics.ts), no Redis pub/sub channel.
 */
import { unbundled } from './unbundled';

export default class ClusterSubscriberGroup {
  constructor() {
    unbundled('ioredis shardedSubscribers');
  }
}
