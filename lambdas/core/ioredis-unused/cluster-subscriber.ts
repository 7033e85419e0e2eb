import { unbundled } from './unbundled';

/**
 * Stands in for ioredis's built/cluster/ClusterSubscriber (3 KB minified) in the bundles (lib/bundling.ts). A
 * cluster client builds one, starts and stops it, for one purpose: the connection its SUBSCRIBE, PSUBSCRIBE (and,
 * without shardedSubscribers, SSUBSCRIBE) commands and their UNSUBSCRIBE twins are sent on, the only commands that
 * ask it for its instance. skycache sends none (lambdas/core/redis-commands.ts: its pub/sub is Redis Streams and
 * XREAD, lambdas/domain/topics.ts), so starting and stopping it do nothing here, and such a command throws.
 */
export default class ClusterSubscriber {
  start(): void {}
  stop(): void {}
  isStarted(): boolean {
    return false;
  }
  getInstance(): never {
    return unbundled('ioredis cluster pub/sub');
  }
}
