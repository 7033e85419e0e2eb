import { readStats } from '../domain/stats';
import { parseStatsWindow, readFleetStats } from '../metrics/fleet-stats';
import { json } from '../shared/http';
import { httpHandler } from '../shared/middleware';

/**
 * GET /cache/stats[?window=5m|1h|24h]. Deployed (CACHE_NODE_IDS set): the fleet's hit/miss metrics and ElastiCache's
 * own figures over the window, from one CloudWatch call. Elsewhere: the counts flushed to Redis and Redis INFO.
 * Calls within a second of each other share one answer.
 */
export const handler = httpHandler({
  needsRedis: (services) => services.config.cacheNodeIds.length === 0,
  handle: async ({ query, services }) => {
    const window = parseStatsWindow(query('window'));
    const nodeIds = services.config.cacheNodeIds;
    const answer = nodeIds.length
      ? services.statsAnswers.get(`cloudwatch:${window}`, () =>
          readFleetStats(services.metricData, { window, nodeIds, now: Date.now() }),
        )
      : services.statsAnswers.get('redis', () =>
          readStats(services.redis, { reader: services.entries.readerFor(), unflushed: services.hits.unpublished('redis') }),
        );
    return json(200, await answer);
  },
});
