import { Match } from 'aws-cdk-lib/assertions';
import { logicalIdAt, synth } from './helpers';

const dev = synth('dev');
const prod = synth('prod');

describe.each([
  ['dev', dev],
  ['prod', prod],
])('snapshot export (%s preset)', (_name, s) => {
  const t = s.template;
  const bucketId = logicalIdAt(s, `${s.stack.stackName}/Backup/Bucket`);
  const bucket = () => t.toJSON().Resources[bucketId];

  test('the export bucket blocks all public access', () => {
    expect(bucket().Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
  });

  test('the export bucket is encrypted with SSE-S3 (what ElastiCache export writes to)', () => {
    expect(bucket().Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
  });

  test('the export bucket is versioned', () => {
    expect(bucket().Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
  });

  test('the export bucket accepts TLS only', () => {
    t.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  test('lifecycle: to Glacier Instant Retrieval, then expiry; old versions and stale uploads cleaned', () => {
    expect(bucket().Properties.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({
        Status: 'Enabled',
        Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: s.config.exportTransitionDays }],
        ExpirationInDays: s.config.exportExpirationDays,
        NoncurrentVersionExpiration: { NoncurrentDays: 7 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
      }),
    ]);
  });

  test('server access logs go to a separate, equally locked-down bucket', () => {
    const logsId = logicalIdAt(s, `${s.stack.stackName}/Backup/AccessLogs`);
    expect(bucket().Properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: 'exports/' });
    const logs = t.toJSON().Resources[logsId].Properties;
    expect(logs.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(logs.BucketEncryption).toBeDefined();
  });

  test('the bucket policy is the export guide\'s: the regional snapshot service, six actions, no condition it may not send', () => {
    const [policy] = Object.values(t.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }));
    const statement = (policy.Properties.PolicyDocument.Statement as Record<string, unknown>[]).find((st) => st.Sid === 'ElastiCacheSnapshotExport');
    expect(statement).toEqual({
      Sid: 'ElastiCacheSnapshotExport',
      Effect: 'Allow',
      Principal: { Service: { 'Fn::Join': ['', [{ Ref: 'AWS::Region' }, '.elasticache-snapshot.amazonaws.com']] } },
      // The guide's list, in its order.
      Action: ['s3:PutObject', 's3:GetObject', 's3:ListBucket', 's3:GetBucketAcl', 's3:ListMultipartUploadParts', 's3:ListBucketMultipartUploads'],
      Resource: [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] }],
    });
  });

  test('the exporter\'s role has what the export guide lists for the CopySnapshot caller', () => {
    const roleId = logicalIdAt(s, `${s.stack.stackName}/Backup/Exporter/Role`);
    const statements = Object.values(t.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as { Sid?: string; Action: string | string[]; Resource: unknown }[]);
    const bySid = (sid: string) => statements.find((st) => st.Sid === sid);
    expect(bySid('ExportListBuckets')).toMatchObject({ Action: 's3:ListAllMyBuckets', Resource: '*' });
    expect(bySid('ExportBucket')).toMatchObject({ Action: ['s3:GetBucketLocation', 's3:ListBucket'], Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] } });
    expect(bySid('ExportObjects')).toMatchObject({ Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'] });
    expect(bySid('ExportSnapshots')).toMatchObject({ Action: 'elasticache:CopySnapshot' });
    expect(bySid('FindAutomaticSnapshots')).toMatchObject({ Action: 'elasticache:DescribeSnapshots', Resource: '*' });
  });

  test('the exporter runs on the configured schedule', () => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/Backup/Exporter/Function`);
    t.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: s.config.exportSchedule,
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: Match.anyValue() })],
    });
  });

  test('the exporter knows the replication group and the bucket, and reaches only the API endpoints', () => {
    const fnId = logicalIdAt(s, `${s.stack.stackName}/Backup/Exporter/Function`);
    const fn = t.toJSON().Resources[fnId].Properties;
    expect(fn.Environment.Variables.CACHE_REPLICATION_GROUP_ID).toEqual({ Ref: logicalIdAt(s, `${s.stack.stackName}/Cache/ReplicationGroup`) });
    expect(fn.Environment.Variables.EXPORT_BUCKET).toEqual({ Ref: bucketId });
    expect(fn.VpcConfig.SecurityGroupIds).toEqual([
      { 'Fn::GetAtt': [logicalIdAt(s, `${s.stack.stackName}/Network/ControlPlaneSecurityGroup`), 'GroupId'] },
    ]);
  });

  test('the export bucket is retained when the stack is deleted, with the policy a restore needs', () => {
    expect(bucket().DeletionPolicy).toBe('Retain');
    const [policy] = Object.values(t.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }));
    expect(policy.DeletionPolicy).toBe('Retain');
  });
});

test('exportEnabled=false leaves out bucket, exporter and schedule', () => {
  const s = synth('dev', { exportEnabled: false });
  s.template.resourceCountIs('AWS::S3::Bucket', 0);
  s.template.resourceCountIs('AWS::Events::Rule', 0);
});
