import { entryJson, type ReadConsistency } from '../domain/entries';
import { CacheError } from '../core/errors';
import { etagOf, noneMatchHits } from '../http/etag';
import { json } from '../http/results';
import { routedHandler, type Operation, type RouteRequest } from '../http/middleware';
import { getEntryRoutes } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** `?consistency=strong` or `x-skycache-consistency: strong` reads the primary even when replicas serve reads. */
function readConsistency(query: (n: string) => string | undefined, header: (n: string) => string | undefined): ReadConsistency {
  const inQuery = query('consistency');
  const asked = inQuery ?? header('x-skycache-consistency');
  if (asked === undefined || asked === 'eventual') return 'eventual';
  if (asked === 'strong') return 'strong';
  // A query parameter's problem is VALIDATION_FAILED, a header's BAD_REQUEST (docs/api.md, "Errors").
  if (inQuery !== undefined) throw new CacheError('VALIDATION_FAILED', `consistency: must be "strong" or "eventual", not "${asked}"`);
  throw new CacheError('BAD_REQUEST', `x-skycache-consistency must be "strong" or "eventual", not "${asked}"`);
}

/** Longest lease a read may ask for, in ms (issue 13): a holder that dies blocks its key's fill no longer than this. */
const MAX_LEASE_MS = 300_000;

/** Header on an answer (200 or 304) whose entry is past its TTL, within its grace (issue 13). */
const STALE_HEADER = 'x-skycache-stale';

function flag(name: string, text: string | undefined): boolean {
  if (text !== undefined && text !== 'true' && text !== 'false') {
    throw new CacheError('VALIDATION_FAILED', `${name}: must be "true" or "false", not "${text}"`);
  }
  return text === 'true';
}

/**
 * GET ?lease=<ms> (issue 13, docs/client.md): a fresh entry is a plain hit; a stale one (within its grace) is
 * answered marked stale, with a lease for the one caller that should refresh it; on a miss the caller gets either
 * the lease (404 NOT_FOUND, details.lease) or the time the current holder has left (404 FILLING, details.retryAfterMs).
 */
async function readWithLease(request: RouteRequest<undefined>, k: string, leaseText: string) {
  const { services, header } = request;
  if (!/^\d{1,6}$/.test(leaseText) || Number(leaseText) < 1 || Number(leaseText) > MAX_LEASE_MS) {
    throw new CacheError('VALIDATION_FAILED', `lease: must be a whole number of milliseconds from 1 to ${MAX_LEASE_MS}, not "${leaseText}"`);
  }
  if (request.query('touch') !== undefined || request.query('sliding') !== undefined) {
    throw new CacheError('VALIDATION_FAILED', 'give "lease" without "touch" or "sliding"');
  }
  const { entry, lease, filledByOtherMs } = await services.entries.getWithLease(k, Number(leaseText));
  services.countRead('entries', !!entry);
  if (!entry) {
    if (lease) throw new CacheError('NOT_FOUND', `no entry for key "${k}"; this caller holds the lease to fill it`, { lease });
    throw new CacheError('FILLING', `no entry for key "${k}"; another caller holds the lease and is filling it`, {
      retryAfterMs: filledByOtherMs,
    });
  }
  const headers: Record<string, string> = { etag: etagOf(entry.version) };
  if (entry.stale) headers[STALE_HEADER] = 'true';
  const ifNoneMatch = header('if-none-match');
  // A granted lease travels in the body: never a 304 then.
  if (!lease && ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, entry.version)) return json(304, undefined, headers);
  const text = entryJson(entry);
  return json(200, lease ? `${text.slice(0, -1)},"lease":${JSON.stringify(lease)}}` : text, headers);
}

/** GET /cache/{key} and GET /cache?key=… (optionally ?touch=<seconds> or ?sliding=true; If-None-Match → 304) */
const read: Operation<undefined> = {
  handle: async (request) => {
    const { key, query, header, services } = request;
    const k = key();
    const leaseText = query('lease');
    if (leaseText !== undefined) return readWithLease(request, k, leaseText);
    const allowStale = flag('allowStale', query('allowStale'));
    const touch = query('touch');
    const sliding = query('sliding');
    let touchTtlSeconds: number | undefined;
    if (touch !== undefined) {
      const max = services.config.maxTtlSeconds;
      if (!/^\d{1,10}$/.test(touch) || Number(touch) < 1 || Number(touch) > max) {
        throw new CacheError('VALIDATION_FAILED', `touch: must be a whole number of seconds from 1 to ${max}, not "${touch}"`);
      }
      touchTtlSeconds = Number(touch);
    }
    flag('sliding', sliding);
    if (touchTtlSeconds !== undefined && sliding === 'true') {
      throw new CacheError('VALIDATION_FAILED', 'give "touch" or "sliding", not both');
    }
    const ifNoneMatch = header('if-none-match');
    const entry = await services.entries.get(k, {
      touchTtlSeconds,
      sliding: sliding === 'true',
      allowStale,
      consistency: readConsistency(query, header),
    });
    services.countRead('entries', !!entry);
    if (!entry) throw new CacheError('NOT_FOUND', `no entry for key "${k}"`);
    const headers: Record<string, string> = { etag: etagOf(entry.version) };
    if (entry.stale) headers[STALE_HEADER] = 'true';
    if (ifNoneMatch !== undefined && noneMatchHits(ifNoneMatch, entry.version)) return json(304, undefined, headers);
    return json(200, entryJson(entry), headers);
  },
};

provideStores(entryStore);

export const handler = routedHandler({ getEntry: read, getEntryByQuery: read }, getEntryRoutes);
