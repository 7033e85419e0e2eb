import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  type ElastiCacheClient,
  type Snapshot,
} from '@aws-sdk/client-elasticache';

export interface SnapshotExportSettings {
  replicationGroupId: string;
  bucket: string;
  /** Prefix of the exported snapshot names (the .rdb objects are named after them). */
  prefix: string;
}

export type SnapshotExportResult =
  | { status: 'exported'; sourceSnapshot: string; targetSnapshot: string }
  | { status: 'already-exported'; sourceSnapshot: string; targetSnapshot: string }
  | { status: 'no-snapshot' };

/** When a snapshot was taken: its own time, else the earliest of its node snapshots. */
export function snapshotTime(s: Snapshot): number {
  const times = (s.NodeSnapshots ?? [])
    .map((n) => n.SnapshotCreateTime?.getTime())
    .filter((t): t is number => typeof t === 'number');
  return times.length ? Math.min(...times) : 0;
}

/**
 * The export's name, derived from the source snapshot only — so a retry of the same day asks for the same name and
 * ElastiCache refuses to write it twice. Names: letters, digits and hyphens, at most 255 characters.
 */
export function exportName(prefix: string, sourceSnapshot: string): string {
  return `${prefix}-${sourceSnapshot}`.replace(/[^a-zA-Z0-9-]/g, '-').replace(/-+/g, '-').slice(0, 255);
}

/** Every available automatic snapshot of the replication group, following pagination. */
export async function automaticSnapshots(client: ElastiCacheClient, replicationGroupId: string): Promise<Snapshot[]> {
  const snapshots: Snapshot[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(
      new DescribeSnapshotsCommand({ ReplicationGroupId: replicationGroupId, SnapshotSource: 'automated', Marker: marker, MaxRecords: 50 }),
    );
    snapshots.push(...(page.Snapshots ?? []));
    marker = page.Marker;
  } while (marker);
  return snapshots.filter((s) => s.SnapshotStatus === undefined || s.SnapshotStatus === 'available');
}

/**
 * Copies the newest automatic snapshot of the replication group into the bucket (CopySnapshot with TargetBucket).
 * Idempotent: an export that already exists counts as done. Any other failure is thrown, so the function's Errors
 * metric (and the export-failure alarm on it) sees it.
 */
export async function exportNewestSnapshot(client: ElastiCacheClient, settings: SnapshotExportSettings): Promise<SnapshotExportResult> {
  const snapshots = await automaticSnapshots(client, settings.replicationGroupId);
  if (snapshots.length === 0) return { status: 'no-snapshot' };
  const newest = snapshots.reduce((a, b) => (snapshotTime(b) > snapshotTime(a) ? b : a));
  const sourceSnapshot = newest.SnapshotName;
  if (!sourceSnapshot) throw new Error('DescribeSnapshots returned a snapshot without a name');
  const targetSnapshot = exportName(settings.prefix, sourceSnapshot);
  try {
    await client.send(
      new CopySnapshotCommand({ SourceSnapshotName: sourceSnapshot, TargetSnapshotName: targetSnapshot, TargetBucket: settings.bucket }),
    );
  } catch (err) {
    if ((err as { name?: string }).name === 'SnapshotAlreadyExistsFault') {
      return { status: 'already-exported', sourceSnapshot, targetSnapshot };
    }
    throw err;
  }
  return { status: 'exported', sourceSnapshot, targetSnapshot };
}
