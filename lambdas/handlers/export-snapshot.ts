import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { Logger } from '@aws-lambda-powertools/logger';
import { exportNewestSnapshot, type SnapshotExportResult } from '../domain/snapshot-export';

/**
 * Scheduled by EventBridge (not an API route): exports the newest automatic snapshot of the cache to S3.
 * A failure is thrown, so the invocation counts in the function's Errors metric and the export-failure alarm fires.
 */
const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'skycache' });
// Created once per execution environment and reused across invocations.
const client = new ElastiCacheClient({});

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`export-snapshot: environment variable ${name} is not set`);
  return value;
}

export async function handler(): Promise<SnapshotExportResult> {
  const settings = {
    replicationGroupId: required('CACHE_REPLICATION_GROUP_ID'),
    bucket: required('EXPORT_BUCKET'),
    prefix: process.env.EXPORT_PREFIX || 'skycache',
  };
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
