import { readHitCounts, readStats } from '../domain/stats';
import { parseStatsWindow, readFleetStats } from '../metrics/fleet-stats';
import { hitRatio, ROUTE_FAMILIES } from '../metrics/names';
import { json } from '../http/results';
import { routedHandler, type Operation } from '../http/middleware';
import { statsRoutes } from '../routes';

/**
 * GET /cache/stats[?window=5m|1h|24h]. Deployed (CACHE_NODE_IDS set): the fleet's hit/miss metrics and ElastiCache's
 * own figures over the window, from one CloudWatch call (and, with exact counts on, the counts in Redis since they
 * began). Elsewhere: the counts flushed to Redis and Redis INFO. Calls within a second of each other share one answer.
 */
const read: Operation<undefined> = {
  needsRedis: ({ config }) => config.cacheNodeIds.length === 0 || config.hitSinks.includes('redis'),
  handle: async ({ query, services }) => {
    const window = parseStatsWindow(query('window'));
    const nodeIds = services.config.cacheNodeIds;
    const answer = nodeIds.length
      ? services.statsAnswers.get(`cloudwatch:${window}`, async () => {
          const fleet = await readFleetStats(services.metricData, { window, nodeIds, now: Date.now() });
          if (!services.config.hitSinks.includes('redis')) return fleet;
          const { counts } = await readHitCounts(services.readerFor());
          const hits = ROUTE_FAMILIES.reduce((a, f) => a + counts[f].hits, 0);
          const misses = ROUTE_FAMILIES.reduce((a, f) => a + counts[f].misses, 0);
          return { ...fleet, exactCounts: { since: 'the count hashes were created', hits, misses, hitRatio: hitRatio({ hits, misses }), families: counts } };
        })
      : services.statsAnswers.get('redis', () =>
          readStats(services.redis, { reader: services.readerFor(), unflushed: services.hits.unpublished('redis') }),
        );
    return json(200, await answer);
  },
};

export const handler = routedHandler({ getCacheStats: read }, statsRoutes);
