import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { snapshotExportSettingsFromEnv } from '../core/config';
import { logger } from '../core/logger';
import { exportNewestSnapshot, type SnapshotExportResult } from '../domain/snapshot-export';

/**
 * Scheduled by EventBridge (not an API route): exports the newest automatic snapshot of the cache to S3.
 * A failure is thrown, so the invocation counts in the function's Errors metric and the export-failure alarm fires.
 */
// Created once per execution environment and reused across invocations.
const client = new ElastiCacheClient({});

export async function handler(): Promise<SnapshotExportResult> {
  const settings = snapshotExportSettingsFromEnv();
  try {
    const result = await exportNewestSnapshot(client, settings);
    if (result.status === 'no-snapshot') logger.warn('no automatic snapshot to export yet', { ...settings });
    else logger.info('snapshot export', { ...settings, ...result });
    return result;
  } catch (error) {
    logger.error('snapshot export failed', { ...settings, error: error as Error });
    throw error;
  }
}
