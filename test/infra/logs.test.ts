import { logicalIdAt, resourcesOf, synth } from './helpers';

const dev = synth('dev');
const prod = synth('prod');

/** The GUID of the stack id, as CloudFormation computes it. */
const stackGuid = { 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'AWS::StackId' }] }] };

describe.each([
  ['dev', dev],
  ['prod', prod],
])('log groups (%s preset)', (_name, s) => {
  const t = s.template;
  const groups = resourcesOf(t, 'AWS::Logs::LogGroup');

  test('every log group is named under this stack instance\'s prefix and encrypted with the data key', () => {
    const keyId = logicalIdAt(s, `${s.stack.stackName}/DataKey`);
    expect(Object.keys(groups).length).toBeGreaterThanOrEqual(15);
    for (const group of Object.values(groups)) {
      const name = group.Properties?.LogGroupName as { 'Fn::Join': [string, unknown[]] };
      const [head, guid, path] = name['Fn::Join'][1];
      expect([head, guid]).toEqual([`/skycache/${s.stack.stackName}/`, stackGuid]);
      expect(path).toMatch(/^\/[A-Za-z0-9_\-/.#]+$/);
      expect(group.Properties?.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
  });

  test('CloudWatch Logs may use the key only for the log groups under that prefix', () => {
    const keyId = logicalIdAt(s, `${s.stack.stackName}/DataKey`);
    const statements = t.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as { Sid?: string; Principal: unknown; Condition?: unknown }[];
    const forLogs = statements.filter((st) => JSON.stringify(st.Principal).includes('logs.'));
    expect(forLogs).toHaveLength(1);
    expect(forLogs[0].Condition).toEqual({
      ArnLike: {
        'kms:EncryptionContext:aws:logs:arn': {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:log-group:/skycache/${s.stack.stackName}/`, stackGuid, '/*']],
        },
      },
    });
  });
});

test('prod (retainData=true) keeps every log group when the stack is deleted; dev deletes them', () => {
  for (const id of Object.keys(resourcesOf(prod.template, 'AWS::Logs::LogGroup'))) {
    expect(prod.template.toJSON().Resources[id]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  }
  for (const id of Object.keys(resourcesOf(dev.template, 'AWS::Logs::LogGroup'))) {
    expect(dev.template.toJSON().Resources[id]).toMatchObject({ DeletionPolicy: 'Delete' });
  }
});
