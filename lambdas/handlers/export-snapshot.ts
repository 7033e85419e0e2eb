import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { snapshotExportSettingsFromEnv } from '../core/config';
import { logger } from '../core/logger';
import { exportNewestSnapshot, SNAPSHOT_MISSING_METRIC, type SnapshotExportResult } from '../domain/snapshot-export';

/**
 * Scheduled by EventBridge (not an API route): exports the newest automatic snapshot of the cache to S3.
 * A failure is thrown, so the invocation counts in the function's Errors metric and the export-failure alarm fires.
 * Every run also publishes `AutomaticSnapshotMissing` (1 when there is no automatic snapshot of the day, else 0),
 * which the missing-snapshot alarm watches (lib/constructs/monitoring.ts).
 */
// Created once per execution environment and reused across invocations.
const client = new ElastiCacheClient({});

export async function handler(): Promise<SnapshotExportResult> {
  const settings = snapshotExportSettingsFromEnv();
  // The replication group is a dimension, so two deployments in one account and region keep their metrics apart.
  const metrics = new Metrics({
    namespace: SNAPSHOT_MISSING_METRIC.namespace,
    serviceName: SNAPSHOT_MISSING_METRIC.service,
    defaultDimensions: { ReplicationGroupId: settings.replicationGroupId },
  });
  try {
    const result = await exportNewestSnapshot(client, settings);
    const missing = result.status === 'no-snapshot' || result.stale;
    metrics.addMetric(SNAPSHOT_MISSING_METRIC.name, MetricUnit.Count, missing ? 1 : 0);
    if (result.status === 'no-snapshot') logger.warn('no automatic snapshot to export', { ...settings });
    else if (result.stale) logger.warn('no automatic snapshot of the day; the newest is older than a day', { ...settings, ...result });
    else logger.info('snapshot export', { ...settings, ...result });
    return result;
  } catch (error) {
    logger.error('snapshot export failed', { ...settings, error: error as Error });
    throw error;
  } finally {
    metrics.publishStoredMetrics();
  }
}
