/**
 * Stands in for ioredis's built/connectors/SentinelConnector (with its iterator and failover detector, 7 KB
 * minified) in the bundles (lib/bundling.ts). ioredis uses it only when given `sentinels`; skycache connects to a
 * URL, a reader URL or cluster nodes (lambdas/core/redis.ts), never through Sentinel.
 */
import { unbundled } from './unbundled';

const unavailable = () => unbundled('ioredis Sentinel');

export default class SentinelConnector {
  constructor() {
    unavailable();
  }
}

export class SentinelIterator {
  constructor() {
    unavailable();
  }
}
