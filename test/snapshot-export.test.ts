/**
 * The snapshot exporter's domain logic. The ElastiCache control plane cannot be reached here (no AWS account, no
 * network), so the client is mocked with aws-sdk-client-mock: these tests pin which calls are made, with what.
 */
import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  SnapshotAlreadyExistsFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { exportName, exportNewestSnapshot, snapshotTime } from '../lambdas/domain/snapshot-export';

const elasticache = mockClient(ElastiCacheClient);
const client = new ElastiCacheClient({ region: 'eu-west-1' });
const settings = { replicationGroupId: 'rg-1', bucket: 'exports-bucket', prefix: 'skycache' };

const snapshot = (name: string, iso: string, status = 'available') => ({
  SnapshotName: name,
  SnapshotStatus: status,
  SnapshotSource: 'automated',
  NodeSnapshots: [{ SnapshotCreateTime: new Date(iso) }, { SnapshotCreateTime: new Date(Date.parse(iso) + 5000) }],
});

beforeEach(() => elasticache.reset());

test('copies the newest automatic snapshot of the replication group to the bucket', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({
    Snapshots: [
      snapshot('automatic.rg-1-2026-11-25-03-00', '2026-11-25T03:00:00Z'),
      snapshot('automatic.rg-1-2026-11-26-03-00', '2026-11-26T03:00:00Z'),
      snapshot('automatic.rg-1-2026-11-24-03-00', '2026-11-24T03:00:00Z'),
    ],
  });
  elasticache.on(CopySnapshotCommand).resolves({});

  const result = await exportNewestSnapshot(client, settings);

  expect(result).toEqual({
    status: 'exported',
    sourceSnapshot: 'automatic.rg-1-2026-11-26-03-00',
    targetSnapshot: 'skycache-automatic-rg-1-2026-11-26-03-00',
  });
  expect(elasticache.commandCalls(DescribeSnapshotsCommand)[0].args[0].input).toMatchObject({
    ReplicationGroupId: 'rg-1',
    SnapshotSource: 'automated',
  });
  const copies = elasticache.commandCalls(CopySnapshotCommand);
  expect(copies).toHaveLength(1);
  expect(copies[0].args[0].input).toEqual({
    SourceSnapshotName: 'automatic.rg-1-2026-11-26-03-00',
    TargetSnapshotName: 'skycache-automatic-rg-1-2026-11-26-03-00',
    TargetBucket: 'exports-bucket',
  });
});

test('follows pagination and ignores snapshots still being created', async () => {
  elasticache
    .on(DescribeSnapshotsCommand, { Marker: undefined })
    .resolves({ Snapshots: [snapshot('automatic.a', '2026-11-20T03:00:00Z')], Marker: 'page-2' })
    .on(DescribeSnapshotsCommand, { Marker: 'page-2' })
    .resolves({ Snapshots: [snapshot('automatic.b', '2026-11-21T03:00:00Z'), snapshot('automatic.c', '2026-11-22T03:00:00Z', 'creating')] });
  elasticache.on(CopySnapshotCommand).resolves({});

  const result = await exportNewestSnapshot(client, settings);

  expect(elasticache.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
  expect(result).toMatchObject({ status: 'exported', sourceSnapshot: 'automatic.b' });
});

test('is idempotent: an export that already exists counts as done', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-1-x', '2026-11-26T03:00:00Z')] });
  elasticache.on(CopySnapshotCommand).rejects(new SnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));

  await expect(exportNewestSnapshot(client, settings)).resolves.toMatchObject({ status: 'already-exported', targetSnapshot: 'skycache-automatic-rg-1-x' });
});

test('the same snapshot always maps to the same export name', () => {
  expect(exportName('skycache', 'automatic.rg-1-2026-11-26-03-00')).toBe(exportName('skycache', 'automatic.rg-1-2026-11-26-03-00'));
  expect(exportName('skycache', 'a..b__c')).toMatch(/^[a-zA-Z0-9-]+$/);
  expect(exportName('p', 'x'.repeat(400))).toHaveLength(255);
});

test('no automatic snapshot yet: nothing is copied', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  await expect(exportNewestSnapshot(client, settings)).resolves.toEqual({ status: 'no-snapshot' });
  expect(elasticache.commandCalls(CopySnapshotCommand)).toHaveLength(0);
});

test('a failed copy is thrown (so the function errors and the export-failure alarm fires)', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-1-x', '2026-11-26T03:00:00Z')] });
  elasticache.on(CopySnapshotCommand).rejects(Object.assign(new Error('Access Denied to bucket'), { name: 'InvalidParameterValueException' }));
  await expect(exportNewestSnapshot(client, settings)).rejects.toThrow('Access Denied to bucket');
});

test('a failed listing is thrown', async () => {
  elasticache.on(DescribeSnapshotsCommand).rejects(new Error('throttled'));
  await expect(exportNewestSnapshot(client, settings)).rejects.toThrow('throttled');
});

test('snapshot time is the earliest node snapshot', () => {
  expect(snapshotTime(snapshot('s', '2026-11-26T03:00:00Z'))).toBe(Date.parse('2026-11-26T03:00:00Z'));
  expect(snapshotTime({ SnapshotName: 'x' })).toBe(0);
});

describe('export-snapshot handler', () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  test('reads its settings from the environment the stack sets', async () => {
    process.env.CACHE_REPLICATION_GROUP_ID = 'rg-9';
    process.env.EXPORT_BUCKET = 'bucket-9';
    process.env.EXPORT_PREFIX = 'sc';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-9-x', '2026-11-26T03:00:00Z')] });
    elasticache.on(CopySnapshotCommand).resolves({});
    const { handler } = await import('../lambdas/handlers/export-snapshot');
    await expect(handler()).resolves.toMatchObject({ status: 'exported', targetSnapshot: 'sc-automatic-rg-9-x' });
    expect(elasticache.commandCalls(CopySnapshotCommand)[0].args[0].input.TargetBucket).toBe('bucket-9');
  });

  test('fails loudly when it is not configured', async () => {
    delete process.env.CACHE_REPLICATION_GROUP_ID;
    const { handler } = await import('../lambdas/handlers/export-snapshot');
    await expect(handler()).rejects.toThrow(/CACHE_REPLICATION_GROUP_ID is not set/);
  });
});
