import { Aspects, AspectPriority, Fn, type IAspect, RemovalPolicies, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

/**
 * Where every log group of the stack lives: `/skycache/<stack name>/<GUID of the stack id>`. The GUID makes the
 * names unique per stack instance, so groups a deleted prod stack retained never collide with a new stack of the
 * same name; and it lets the key policy name this stack's log groups, and no others.
 */
export function logGroupPrefix(stack: Stack): string {
  return `/skycache/${stack.stackName}/${Fn.select(2, Fn.split('/', stack.stackId))}`;
}

/** Names each log group of the stack that has no name of its own after its construct path, under the prefix. */
class NameLogGroups implements IAspect {
  constructor(private readonly stack: Stack) {}

  visit(node: IConstruct): void {
    // An L2 LogGroup without a name passes a token that resolves to nothing (CloudFormation would generate one).
    if (!(node instanceof logs.CfnLogGroup) || this.stack.resolve(node.logGroupName) !== undefined) return;
    const path = node.node.path
      .slice(this.stack.node.path.length + 1)
      .replace(/\/Resource$/, '')
      .replace(/[^A-Za-z0-9_\-/.#]/g, '-');
    node.logGroupName = `${logGroupPrefix(this.stack)}/${path}`;
  }
}

/**
 * The stack's log groups: named under logGroupPrefix (every one, also those added later), kept on stack deletion
 * when `retain` (the prod preset's retainData), and the only log groups CloudWatch Logs may use `key` for
 * (the kms:EncryptionContext:aws:logs:arn condition, as docs/infrastructure.md cites).
 */
export function secureLogGroups(stack: Stack, key: kms.IKey, options: { retain: boolean }): void {
  Aspects.of(stack).add(new NameLogGroups(stack), { priority: AspectPriority.MUTATING });
  if (options.retain) RemovalPolicies.of(stack).retain({ applyToResourceTypes: ['AWS::Logs::LogGroup'] });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsEncryption',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': `arn:${stack.partition}:logs:${stack.region}:${stack.account}:log-group:${logGroupPrefix(stack)}/*`,
        },
      },
    }),
  );
}
