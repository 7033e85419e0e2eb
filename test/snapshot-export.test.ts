/**
 * The snapshot exporter's domain logic. The ElastiCache control plane cannot be reached here (no AWS account, no
 * network), so the client is mocked with aws-sdk-client-mock: these tests pin which calls are made, with what — and
 * every request the code sends is checked against the SDK's model (test/support/elasticache-model.ts), so the mock
 * cannot agree with a value the API would refuse.
 */
import {
  CopySnapshotCommand,
  DescribeSnapshotsCommand,
  ElastiCacheClient,
  InvalidParameterValueException,
  SnapshotAlreadyExistsFault,
} from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { exportName, parseExportFile } from '../lambdas/domain/export-name';
import {
  exportNewestSnapshot,
  isAlreadyExported,
  MAX_SNAPSHOT_AGE_MS,
  SNAPSHOT_MISSING_METRIC,
  snapshotTime,
} from '../lambdas/domain/snapshot-export';
import { modelShape, REQUEST_RULES, requestProblems } from './support/elasticache-model';

const elasticache = mockClient(ElastiCacheClient);
const client = new ElastiCacheClient({ region: 'eu-west-1' });
const settings = { replicationGroupId: 'rg-1', bucket: 'exports-bucket', prefix: 'skycache' };
const NOW = Date.parse('2026-11-26T05:30:00Z');

const snapshot = (name: string, iso: string, status = 'available') => ({
  SnapshotName: name,
  SnapshotStatus: status,
  SnapshotSource: 'automated',
  Engine: 'valkey',
  EngineVersion: '8.0.1',
  NumNodeGroups: 1,
  NodeSnapshots: [{ SnapshotCreateTime: new Date(iso) }, { SnapshotCreateTime: new Date(Date.parse(iso) + 5000) }],
});

beforeEach(() => elasticache.reset());
afterEach(() => {
  // Every request any test made, against the API's documented members and values.
  for (const call of elasticache.calls()) {
    const command = call.args[0] as unknown as { constructor: { name: string }; input: Record<string, unknown> };
    expect(requestProblems(command.constructor.name, command.input)).toEqual([]);
  }
});

describe('the request rules agree with the SDK model', () => {
  test.each(Object.entries(REQUEST_RULES))('%s', (_command, rules) => {
    const members = modelShape(rules.shape);
    for (const [member, values] of Object.entries(rules.values ?? {})) {
      for (const v of values) expect(members[member].doc).toContain(`<code>${v}</code>`);
    }
    for (const [member, [min, max]] of Object.entries(rules.ranges ?? {})) {
      expect(members[member].doc).toContain(`minimum ${min}; maximum ${max}`);
    }
    for (const member of rules.lowercase ?? []) expect(members[member].doc).toContain('stored as a lowercase string');
  });

  test('a wrong value is caught: SnapshotSource takes system/user, not the response values automated/manual', () => {
    expect(requestProblems('DescribeSnapshotsCommand', { ReplicationGroupId: 'rg', SnapshotSource: 'automated' })).toEqual([
      'DescribeSnapshotsCommand.SnapshotSource: automated is not one of system, user',
    ]);
    expect(requestProblems('DescribeSnapshotsCommand', { MaxRecords: 100 })).toHaveLength(1);
    expect(requestProblems('CopySnapshotCommand', { SourceSnapshotName: 'a', TargetBucket: 'b' })).toEqual([
      'CopySnapshotCommand.TargetSnapshotName: required by CopySnapshotMessage',
    ]);
    expect(requestProblems('CopySnapshotCommand', { SourceSnapshotName: 'a', TargetSnapshotName: 'B', Bucket: 'b' })).toHaveLength(2);
  });
});

test('copies the newest automatic snapshot of the replication group to the bucket', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({
    Snapshots: [
      snapshot('automatic.rg-1-2026-11-25-03-00', '2026-11-25T03:00:00Z'),
      snapshot('automatic.rg-1-2026-11-26-03-00', '2026-11-26T03:00:00Z'),
      snapshot('automatic.rg-1-2026-11-24-03-00', '2026-11-24T03:00:00Z'),
    ],
  });
  elasticache.on(CopySnapshotCommand).resolves({});

  const result = await exportNewestSnapshot(client, settings, NOW);

  expect(result).toEqual({
    status: 'exported',
    sourceSnapshot: 'automatic.rg-1-2026-11-26-03-00',
    targetSnapshot: 'skycache-valkey-8-0-shards-1-automatic-rg-1-2026-11-26-03-00',
    stale: false,
  });
  expect(elasticache.commandCalls(DescribeSnapshotsCommand)[0].args[0].input).toEqual({
    ReplicationGroupId: 'rg-1',
    SnapshotSource: 'system',
    MaxRecords: 50,
  });
  const copies = elasticache.commandCalls(CopySnapshotCommand);
  expect(copies).toHaveLength(1);
  expect(copies[0].args[0].input).toEqual({
    SourceSnapshotName: 'automatic.rg-1-2026-11-26-03-00',
    TargetSnapshotName: 'skycache-valkey-8-0-shards-1-automatic-rg-1-2026-11-26-03-00',
    TargetBucket: 'exports-bucket',
  });
});

test('follows pagination and ignores snapshots still being created', async () => {
  elasticache
    .on(DescribeSnapshotsCommand, { Marker: undefined })
    .resolves({ Snapshots: [snapshot('automatic.a', '2026-11-25T03:00:00Z')], Marker: 'page-2' })
    .on(DescribeSnapshotsCommand, { Marker: 'page-2' })
    .resolves({ Snapshots: [snapshot('automatic.b', '2026-11-26T03:00:00Z'), snapshot('automatic.c', '2026-11-26T04:00:00Z', 'creating')] });
  elasticache.on(CopySnapshotCommand).resolves({});

  const result = await exportNewestSnapshot(client, settings, NOW);

  expect(elasticache.commandCalls(DescribeSnapshotsCommand)).toHaveLength(2);
  expect(elasticache.commandCalls(DescribeSnapshotsCommand)[1].args[0].input).toMatchObject({ Marker: 'page-2', SnapshotSource: 'system' });
  expect(result).toMatchObject({ status: 'exported', sourceSnapshot: 'automatic.b', stale: false });
});

describe('idempotent reruns: an export that already exists counts as done', () => {
  test.each([
    ['SnapshotAlreadyExistsFault', new SnapshotAlreadyExistsFault({ message: 'Snapshot already exists', $metadata: {} })],
    [
      'the bucket already holds the object',
      new InvalidParameterValueException({
        message: 'The S3 bucket exports-bucket already contains an object with key skycache-valkey-8-0-shards-1-automatic-rg-1-x-0001.rdb.',
        $metadata: {},
      }),
    ],
  ])('%s', async (_case, error) => {
    elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-1-x', '2026-11-26T03:00:00Z')] });
    elasticache.on(CopySnapshotCommand).rejects(error);
    await expect(exportNewestSnapshot(client, settings, NOW)).resolves.toEqual({
      status: 'already-exported',
      sourceSnapshot: 'automatic.rg-1-x',
      targetSnapshot: 'skycache-valkey-8-0-shards-1-automatic-rg-1-x',
      stale: false,
    });
  });

  test('other failures are not mistaken for an existing export', () => {
    expect(isAlreadyExported(new InvalidParameterValueException({ message: 'The S3 bucket b is outside of the region.', $metadata: {} }))).toBe(false);
    expect(isAlreadyExported(undefined)).toBe(false);
  });
});

describe('export names', () => {
  const source = { snapshotName: 'automatic.RG-1-2026-11-26-03-00', engine: 'redis', engineVersion: '7.1.0', shards: 3 };

  test('the same snapshot always maps to the same lowercase name, with engine, version and shard count', () => {
    expect(exportName('skycache', source)).toBe('skycache-redis-7-1-shards-3-automatic-rg-1-2026-11-26-03-00');
    expect(exportName('skycache', source)).toBe(exportName('skycache', { ...source }));
    expect(exportName('skycache', { snapshotName: 'a..b__c' })).toBe('skycache-a-b-c');
    expect(exportName('p', { snapshotName: 'x'.repeat(400) })).toHaveLength(255);
  });

  test('a restore reads the exported object keys back', () => {
    const name = exportName('skycache', source);
    expect(parseExportFile(`${name}-0002.rdb`)).toEqual({ exportName: name, shard: 2, engine: 'redis', major: 7, minor: 1, shards: 3 });
    expect(parseExportFile(`backups/${name}-0001.rdb`)).toMatchObject({ exportName: `backups/${name}`, shard: 1, shards: 3 });
    expect(parseExportFile('dump-0001.rdb')).toEqual({ exportName: 'dump', shard: 1 });
    expect(parseExportFile('dump.rdb')).toBeUndefined();
  });
});

test('no automatic snapshot yet: nothing is copied', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
  await expect(exportNewestSnapshot(client, settings, NOW)).resolves.toEqual({ status: 'no-snapshot' });
  expect(elasticache.commandCalls(CopySnapshotCommand)).toHaveLength(0);
});

test('no snapshot of the day: the newest one is (re)exported and reported stale', async () => {
  const newest = NOW - MAX_SNAPSHOT_AGE_MS - 60_000;
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-1-old', new Date(newest).toISOString())] });
  elasticache.on(CopySnapshotCommand).rejects(new SnapshotAlreadyExistsFault({ message: 'exists', $metadata: {} }));
  await expect(exportNewestSnapshot(client, settings, NOW)).resolves.toMatchObject({ status: 'already-exported', stale: true });
});

test('a failed copy is thrown (so the function errors and the export-failure alarm fires)', async () => {
  elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-1-x', '2026-11-26T03:00:00Z')] });
  elasticache.on(CopySnapshotCommand).rejects(Object.assign(new Error('Access Denied to bucket'), { name: 'InvalidParameterValueException' }));
  await expect(exportNewestSnapshot(client, settings, NOW)).rejects.toThrow('Access Denied to bucket');
});

test('a failed listing is thrown', async () => {
  elasticache.on(DescribeSnapshotsCommand).rejects(new Error('throttled'));
  await expect(exportNewestSnapshot(client, settings, NOW)).rejects.toThrow('throttled');
});

test('snapshot time is the earliest node snapshot', () => {
  expect(snapshotTime(snapshot('s', '2026-11-26T03:00:00Z'))).toBe(Date.parse('2026-11-26T03:00:00Z'));
  expect(snapshotTime({ SnapshotName: 'x' })).toBe(0);
});

describe('export-snapshot handler', () => {
  const env = { ...process.env };
  let stdout: jest.SpyInstance;
  const emitted = () =>
    stdout.mock.calls
      .map(([chunk]) => String(chunk))
      .filter((line) => line.includes('"_aws"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeEach(() => {
    process.env.CACHE_REPLICATION_GROUP_ID = 'rg-9';
    process.env.EXPORT_BUCKET = 'bucket-9';
    process.env.EXPORT_PREFIX = 'sc';
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    process.env.POWERTOOLS_SERVICE_NAME = 'skycache';
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    process.env = { ...env };
  });

  test('reads its settings from the environment the stack sets, and reports the snapshot of the day present', async () => {
    elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [snapshot('automatic.rg-9-x', new Date(Date.now() - 3600_000).toISOString())] });
    elasticache.on(CopySnapshotCommand).resolves({});
    const { handler } = await import('../lambdas/handlers/export-snapshot');
    await expect(handler()).resolves.toMatchObject({ status: 'exported', targetSnapshot: 'sc-valkey-8-0-shards-1-automatic-rg-9-x' });
    expect(elasticache.commandCalls(CopySnapshotCommand)[0].args[0].input.TargetBucket).toBe('bucket-9');
    expect(emitted()).toEqual([expect.objectContaining({ [SNAPSHOT_MISSING_METRIC.name]: 0, ReplicationGroupId: 'rg-9', service: 'skycache-export' })]);
  });

  test('a day without an automatic snapshot publishes the missing-snapshot metric (and does not fail)', async () => {
    elasticache.on(DescribeSnapshotsCommand).resolves({ Snapshots: [] });
    const { handler } = await import('../lambdas/handlers/export-snapshot');
    await expect(handler()).resolves.toEqual({ status: 'no-snapshot' });
    const [emf] = emitted();
    expect(emf).toMatchObject({ [SNAPSHOT_MISSING_METRIC.name]: 1, ReplicationGroupId: 'rg-9' });
    const directive = (emf._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }).CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('skycache');
    expect(directive.Metrics).toEqual([expect.objectContaining({ Name: SNAPSHOT_MISSING_METRIC.name })]);
    expect(directive.Dimensions[0].sort()).toEqual(['ReplicationGroupId', 'service']);
  });

  test('fails loudly when it is not configured', async () => {
    delete process.env.CACHE_REPLICATION_GROUP_ID;
    const { handler } = await import('../lambdas/handlers/export-snapshot');
    await expect(handler()).rejects.toThrow(/CACHE_REPLICATION_GROUP_ID is not set/);
  });
});
