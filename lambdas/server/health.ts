import { withDeadline } from '../core/deadline';
import { whenReady } from '../core/readiness';
import { readyServices } from '../services';

/** Liveness (the container's HEALTHCHECK): the process answers HTTP. Never touches Redis. */
export const LIVENESS_PATH = '/healthz';
/** Readiness (the load balancer's target health check): this worker can serve requests now. */
export const READINESS_PATH = '/readyz';

export type Readiness = { ready: true } | { ready: false; reason: string };

/**
 * Ready when the API keys are loaded (if any are configured) and Redis answers a PING within the Redis deadline.
 * The client reconnects by itself, so a worker that was not ready becomes ready again without a restart.
 */
export async function checkReadiness(keysLoaded: boolean): Promise<Readiness> {
  if (!keysLoaded) return { ready: false, reason: 'the API keys have not been loaded yet' };
  try {
    const svc = await readyServices();
    const ms = svc.config.redisTimeoutMs;
    await whenReady(svc.redis, ms);
    await withDeadline(svc.redis.ping(), ms, `no answer to PING within ${ms} ms`);
    return { ready: true };
  } catch (e) {
    return { ready: false, reason: `the cache is not reachable: ${(e as Error).message}` };
  }
}
