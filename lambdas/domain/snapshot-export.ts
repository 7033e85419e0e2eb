import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  type ElastiCacheClient,
  type Snapshot,
} from '@aws-sdk/client-elasticache';
import { exportName } from './export-name';

export interface SnapshotExportSettings {
  replicationGroupId: string;
  bucket: string;
  /** Prefix of the exported snapshot names (the .rdb objects are named after them). */
  prefix: string;
}

/**
 * `stale`: the newest automatic snapshot is older than a day (plus the snapshot window's slack), so the snapshot of
 * the day is missing even though an older one could be (re)exported.
 */
export type SnapshotExportResult =
  | { status: 'exported' | 'already-exported'; sourceSnapshot: string; targetSnapshot: string; stale: boolean }
  | { status: 'no-snapshot' };

/**
 * DescribeSnapshots' request value for automatic snapshots. The request takes `system` (automatic) or `user`
 * (manual); `automated`/`manual` are values of the *response* field Snapshot.SnapshotSource.
 */
export const AUTOMATIC_SNAPSHOTS = 'system';

/** A snapshot older than this is not the snapshot of the day: snapshots are daily and the window is at most hours. */
export const MAX_SNAPSHOT_AGE_MS = 25 * 3600 * 1000;

/**
 * The missing-snapshot metric the exporter publishes and the stack's alarm reads: 1 when a run finds no automatic
 * snapshot of the day, else 0. Dimensions: `service` (= `service` here) and `ReplicationGroupId`.
 */
export const SNAPSHOT_MISSING_METRIC = { namespace: 'skycache', service: 'skycache-export', name: 'AutomaticSnapshotMissing' } as const;

/** When a snapshot was taken: its own time, else the earliest of its node snapshots. */
export function snapshotTime(s: Snapshot): number {
  const times = (s.NodeSnapshots ?? [])
    .map((n) => n.SnapshotCreateTime?.getTime())
    .filter((t): t is number => typeof t === 'number');
  return times.length ? Math.min(...times) : 0;
}

/** Every available automatic snapshot of the replication group, following pagination. */
export async function automaticSnapshots(client: ElastiCacheClient, replicationGroupId: string): Promise<Snapshot[]> {
  const snapshots: Snapshot[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(
      new DescribeSnapshotsCommand({ ReplicationGroupId: replicationGroupId, SnapshotSource: AUTOMATIC_SNAPSHOTS, Marker: marker, MaxRecords: 50 }),
    );
    snapshots.push(...(page.Snapshots ?? []));
    marker = page.Marker;
  } while (marker);
  return snapshots.filter((s) => s.SnapshotStatus === undefined || s.SnapshotStatus === 'available');
}

/**
 * Whether a CopySnapshot failure means the export already exists: ElastiCache refuses a target name it has
 * (SnapshotAlreadyExistsFault) or one whose object is already in the bucket ("The S3 bucket %s already contains an
 * object with key %s", CopySnapshot's documented error messages).
 */
export function isAlreadyExported(err: unknown): boolean {
  const { name, message } = (err ?? {}) as { name?: string; message?: string };
  return name === 'SnapshotAlreadyExistsFault' || /already contains an object with key/i.test(message ?? '');
}

/**
 * Copies the newest automatic snapshot of the replication group into the bucket (CopySnapshot with TargetBucket).
 * Idempotent: an export that already exists counts as done. Any other failure is thrown, so the function's Errors
 * metric (and the export-failure alarm on it) sees it.
 */
export async function exportNewestSnapshot(
  client: ElastiCacheClient,
  settings: SnapshotExportSettings,
  now: number = Date.now(),
): Promise<SnapshotExportResult> {
  const snapshots = await automaticSnapshots(client, settings.replicationGroupId);
  if (snapshots.length === 0) return { status: 'no-snapshot' };
  const newest = snapshots.reduce((a, b) => (snapshotTime(b) > snapshotTime(a) ? b : a));
  const sourceSnapshot = newest.SnapshotName;
  if (!sourceSnapshot) throw new Error('DescribeSnapshots returned a snapshot without a name');
  const targetSnapshot = exportName(settings.prefix, {
    snapshotName: sourceSnapshot,
    engine: newest.Engine,
    engineVersion: newest.EngineVersion,
    shards: newest.NumNodeGroups,
  });
  const stale = now - snapshotTime(newest) > MAX_SNAPSHOT_AGE_MS;
  try {
    await client.send(
      new CopySnapshotCommand({ SourceSnapshotName: sourceSnapshot, TargetSnapshotName: targetSnapshot, TargetBucket: settings.bucket }),
    );
  } catch (err) {
    if (isAlreadyExported(err)) return { status: 'already-exported', sourceSnapshot, targetSnapshot, stale };
    throw err;
  }
  return { status: 'exported', sourceSnapshot, targetSnapshot, stale };
}
