import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { loggingEnvironment } from '../../lambdas/core/config';
import { aliasArgs, handlerBundling } from '../bundling';

/** The repository root (where package-lock.json lives). */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** The entry file of a handler module: `lambdas/handlers/<name>.ts`. */
export function handlerEntry(name: string): string {
  return path.join(PROJECT_ROOT, 'lambdas', 'handlers', `${name}.ts`);
}

export interface HandlerFunctionProps {
  /** Module under lambdas/handlers/ exporting `handler`. */
  readonly handlerModule: string;
  readonly description: string;
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.ISecurityGroup;
  readonly environment?: Record<string, string>;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly logRetention?: logs.RetentionDays;
  /** @default AWS-owned encryption of CloudWatch Logs */
  readonly logEncryptionKey?: kms.IKey;
  /** @default 'INFO' */
  readonly logLevel?: string;
}

/**
 * One handler module as a Lambda function: bundled locally by esbuild (ESM, minified, source maps), Node.js 22 on
 * arm64, in the VPC's isolated subnets, X-Ray tracing on, its own encrypted log group with retention, and a role
 * of its own that starts with nothing but writing its log group and managing its VPC network interfaces.
 */
export class HandlerFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.TWO_WEEKS,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // Not AWSLambdaBasicExecutionRole / AWSLambdaVPCAccessExecutionRole: those allow writing any log group.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `skycache ${props.handlerModule} function`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ManageVpcNetworkInterfaces',
        actions: [
          'ec2:CreateNetworkInterface',
          'ec2:DescribeNetworkInterfaces',
          'ec2:DescribeSubnets',
          'ec2:DeleteNetworkInterface',
          'ec2:AssignPrivateIpAddresses',
          'ec2:UnassignPrivateIpAddresses',
        ],
        resources: ['*'],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry: handlerEntry(props.handlerModule),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      tracing: lambda.Tracing.ACTIVE,
      vpc: props.vpc,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        ...loggingEnvironment(props.logLevel ?? 'INFO'),
        ...props.environment,
      },
      // The settings of lib/bundling.ts, which the benchmark's bundle-size and cold-start figures also use.
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        minify: handlerBundling.minify,
        sourceMap: handlerBundling.sourcemap,
        sourcesContent: handlerBundling.sourcesContent,
        target: handlerBundling.target,
        mainFields: [...handlerBundling.mainFields],
        banner: handlerBundling.banner,
        externalModules: [...handlerBundling.external],
        esbuildArgs: aliasArgs(),
        logLevel: nodejs.LogLevel.ERROR,
      },
    });
  }

  /** The function's principal, for grants. */
  get grantPrincipal(): iam.IPrincipal {
    return this.function.grantPrincipal;
  }
}
