import type { WriteCondition } from '../domain/entries';
import { CacheError } from '../core/errors';
import { etagOf, ifMatchCondition, parseEtags } from '../http/etag';
import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import { setEntryRoutes, type BodyOf } from '../routes';
import { provideStores } from '../services';
import { entryStore } from '../stores/entries';

/** POST /cache (conditions in the body: ifAbsent / ifPresent / ifVersion, or as headers: If-Match / If-None-Match: *) */
const write: Operation<BodyOf<'setEntry'>> = {
  handle: async ({ body, header, services }) => {
    let condition: WriteCondition | undefined =
      body.ifAbsent ? { ifAbsent: true } : body.ifPresent ? { ifPresent: true } : body.ifVersion !== undefined ? { ifVersion: body.ifVersion } : undefined;
    const ifMatch = header('if-match');
    const ifNoneMatch = header('if-none-match');
    const fromHeader = ifMatch !== undefined || ifNoneMatch !== undefined;
    if (fromHeader && condition) {
      throw new CacheError('BAD_REQUEST', 'give a condition in the body (ifAbsent/ifPresent/ifVersion) or as a header (If-Match/If-None-Match), not both');
    }
    if (ifMatch !== undefined && ifNoneMatch !== undefined) throw new CacheError('BAD_REQUEST', 'give If-Match or If-None-Match, not both');
    if (ifMatch !== undefined) {
      const wanted = ifMatchCondition(ifMatch);
      condition = wanted === '*' ? { ifPresent: true } : { ifVersion: wanted };
    }
    if (ifNoneMatch !== undefined) {
      if (parseEtags(ifNoneMatch) !== '*') throw new CacheError('BAD_REQUEST', 'on a write, If-None-Match takes only "*" (create only)');
      condition = { ifAbsent: true };
    }
    let result;
    try {
      result = await services.entries.set(body.key, body.value, body.ttl, {
        tags: body.tags,
        condition,
        graceSeconds: body.grace,
        leaseToken: body.lease,
        externalVersion: body.externalVersion,
      });
    } catch (e) {
      // A refused HTTP precondition is a 412, whatever the state that refused it.
      if (fromHeader && e instanceof CacheError && ['CONFLICT', 'NOT_FOUND', 'VERSION_CONFLICT'].includes(e.code) && e.details) {
        throw new CacheError('PRECONDITION_FAILED', `precondition failed: ${e.message}`, e.details);
      }
      throw e;
    }
    const { created, ...entry } = result;
    if (body.durability === 'replicated') {
      // Half the request budget for WAIT, so the answer (written, replicated or not) always arrives in time.
      const waitMs = Math.max(10, Math.floor(services.config.redisTimeoutMs / 2));
      const replication = await services.entries.waitForReplicas(body.key, 1, waitMs);
      const replicated = { ...entry, replication: { ...replication, replicated: replication.acknowledged >= 1 } };
      return json(created ? 201 : 200, replicated, { etag: etagOf(entry.version) });
    }
    return json(created ? 201 : 200, entry, { etag: etagOf(entry.version) });
  },
};

/** POST /cache/lease/release {key, token} (issue 13) */
const releaseLease: Operation<BodyOf<'releaseLease'>> = {
  handle: async ({ body, services }) => {
    if (await services.entries.releaseLease(body.key, body.token)) return json(204);
    throw new CacheError('LEASE_CONFLICT', `the lease on "${body.key}" is not this token's (it expired or was ended by a write); nothing was released`);
  },
};

provideStores(entryStore);

export const handler = routedHandler({ setEntry: write, releaseLease }, setEntryRoutes);
