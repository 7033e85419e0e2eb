/**
 * The names the hit/miss metrics are published under, read back by GET /cache/stats and drawn by the dashboard:
 * the one place they are spelled (lambdas/metrics/hit-counts.ts publishes, lambdas/metrics/fleet-stats.ts and
 * lib/constructs/monitoring.ts read).
 */
export const METRICS_NAMESPACE = 'skycache';
/** Powertools' default dimension (`POWERTOOLS_SERVICE_NAME`, set on every function). */
export const SERVICE_DIMENSION = 'service';
export const SERVICE_NAME = 'skycache';
export const FAMILY_DIMENSION = 'RouteFamily';
export const HITS_METRIC = 'Hits';
export const MISSES_METRIC = 'Misses';

/**
 * The kinds of read that count a hit (the key held what was asked for) or a miss (404): entry reads (GET /cache/{key},
 * GET /cache?key=), batch get, counter reads and the collection reads that answer 404 when nothing is there.
 */
export const ROUTE_FAMILIES = ['entries', 'batch', 'counters', 'lists', 'sets', 'hashes', 'zsets'] as const;
export type RouteFamily = (typeof ROUTE_FAMILIES)[number];

export interface HitTally {
  hits: number;
  misses: number;
}
export type HitCounts = Record<RouteFamily, HitTally>;

export function emptyCounts(): HitCounts {
  return Object.fromEntries(ROUTE_FAMILIES.map((f) => [f, { hits: 0, misses: 0 }])) as HitCounts;
}

/** hits / (hits + misses), or null before the first counted read. */
export function hitRatio(t: HitTally): number | null {
  return t.hits + t.misses === 0 ? null : t.hits / (t.hits + t.misses);
}

/** Field of a route family's count in the hit-count hashes in Redis: `entries:hits`, `entries:misses`, … */
export function countField(family: RouteFamily, kind: 'hits' | 'misses'): string {
  return `${family}:${kind}`;
}
