/**
 * @skycache/client: the skycache API as typed calls (docs/client.md). ESM; no runtime dependency beyond fetch.
 * SigV4 signing for authMode=iam is a separate entry point, '@skycache/client/sigv4' (it uses node:crypto).
 */
export { SkycacheClient, type ClientOptions, type LeaseAnswer, type ReadOptions, type RouteArgs, type RouteBody, type WriteOptions } from './client.js';
export type { BatchGetItem, BatchSetItem, CounterResult, Entry, Lease, TtlInfo, WriteResult } from './client.js';
export { SkycacheError, WriteBehindError, WriteBehindFullError, type SkycacheErrorCode } from './errors.js';
export { NearCache } from './near-cache.js';
export { WriteBehind, type GetOrSetOptions, type Loader, type LoaderContext, type WriteBehindOptions, type WriteThroughResult } from './patterns.js';
export { ROUTES, type PathParams } from './routes.js';
export { retryDelayMs, Transport, type ApiAnswer, type CallOptions, type RetryOptions, type SignableRequest, type Signer, type TransportOptions } from './transport.js';
