import { unbundled } from './unbundled';

/**
 * Stands in for ioredis's built/ScanStream in the bundles (lib/bundling.ts): only the client's scanStream(),
 * sscanStream(), hscanStream() and zscanStream() build one, and skycache calls none of them (it sends SCAN itself,
 * lambdas/domain/entries.ts; test/bundles.test.ts holds the code to that).
 */
export default class ScanStream {
  constructor() {
    unbundled('ioredis scan streams');
  }
}
