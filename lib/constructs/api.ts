import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { RouteDefinition } from '../../lambdas/routes';
import { toGatewaySchema, type SchemaLimits } from '../../lambdas/http/schemas';
import type { AuthMode } from '../config';

export interface ApiProps {
  /** The route table (one resource and method per route). */
  readonly routes: readonly RouteDefinition[];
  /** The function of each handler module named in the table. */
  readonly functions: ReadonlyMap<string, lambda.IFunction>;
  /** Limits of the request schemas; the same the handlers validate with. */
  readonly schemaLimits: SchemaLimits;
  /** `apiKey`: API keys with a usage plan; `iam`: AWS_IAM (SigV4). @default 'apiKey' */
  readonly authMode?: AuthMode;
  /** @default 'dev' */
  readonly stageName?: string;
  /** Stage and usage-plan throttling (requests per second). @default 50 */
  readonly throttleRateLimit?: number;
  /** @default 100 */
  readonly throttleBurstLimit?: number;
  /** Usage-plan quota per API key (apiKey mode). @default 100000 per DAY */
  readonly quotaLimit?: number;
  /** @default apigateway.Period.DAY */
  readonly quotaPeriod?: apigateway.Period;
  /** Execution-log level of the stage. @default apigateway.MethodLoggingLevel.INFO */
  readonly loggingLevel?: apigateway.MethodLoggingLevel;
  /** @default logs.RetentionDays.TWO_WEEKS */
  readonly accessLogRetention?: logs.RetentionDays;
  /** @default AWS-owned encryption of CloudWatch Logs */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Associate a WAFv2 web ACL with the stage: AWS's IP reputation list, and a per-IP rate rule when
   * `wafRateLimitPer5Min` is set. (No body-inspecting rule groups: cached values are arbitrary JSON.)
   * @default false
   */
  readonly waf?: boolean;
  /** Requests per 5 minutes per IP before WAF blocks; 0 for none. @default 0 */
  readonly wafRateLimitPer5Min?: number;
}

/**
 * A regional REST API generated from the route table: one resource and method per route with a Lambda proxy
 * integration, request validation (JSON Schema models from the handlers' own zod schemas, required query
 * parameters), authorization on every method (API key + usage plan, or AWS_IAM), JSON access logs, execution logs,
 * X-Ray tracing and stage throttling.
 */
export class Api extends Construct {
  readonly restApi: apigateway.RestApi;
  readonly stage: apigateway.Stage;
  readonly accessLogGroup: logs.LogGroup;
  readonly apiKey?: apigateway.IApiKey;
  readonly usagePlan?: apigateway.UsagePlan;
  readonly methods: apigateway.Method[] = [];
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const authMode = props.authMode ?? 'apiKey';
    const rateLimit = props.throttleRateLimit ?? 50;
    const burstLimit = props.throttleBurstLimit ?? 100;

    this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? logs.RetentionDays.TWO_WEEKS,
      encryptionKey: props.logEncryptionKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.restApi = new apigateway.RestApi(this, 'RestApi', {
      description: 'skycache: a distributed cache over HTTP',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      // Keys travel in the x-api-key header.
      apiKeySourceType: authMode === 'apiKey' ? apigateway.ApiKeySourceType.HEADER : undefined,
      deployOptions: {
        stageName: props.stageName ?? 'dev',
        tracingEnabled: true,
        metricsEnabled: true,
        dataTraceEnabled: false,
        loggingLevel: props.loggingLevel ?? apigateway.MethodLoggingLevel.INFO,
        throttlingRateLimit: rateLimit,
        throttlingBurstLimit: burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
      },
      defaultMethodOptions:
        authMode === 'iam'
          ? { authorizationType: apigateway.AuthorizationType.IAM }
          : { authorizationType: apigateway.AuthorizationType.NONE, apiKeyRequired: true },
    });
    this.stage = this.restApi.deploymentStage;

    const bodyValidator = this.restApi.addRequestValidator('BodyAndParameters', {
      requestValidatorName: 'body-and-parameters',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const parameterValidator = this.restApi.addRequestValidator('Parameters', {
      requestValidatorName: 'parameters',
      validateRequestBody: false,
      validateRequestParameters: true,
    });

    // Validation failures answer in the handlers' error shape.
    this.restApi.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': errorTemplate('VALIDATION_FAILED'),
      },
    });
    // The one required request parameter is ?key= (checked below), so its absence is the key's problem: INVALID_KEY,
    // as the handlers answer it (docs/api.md, "Errors").
    this.restApi.addGatewayResponse('BadRequestParameters', {
      type: apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
      statusCode: '400',
      templates: {
        'application/json': errorTemplate('INVALID_KEY'),
      },
    });

    const integrations = new Map<string, apigateway.LambdaIntegration>();
    for (const route of props.routes) {
      const fn = props.functions.get(route.handler);
      if (!fn) throw new Error(`Api: no function for handler module "${route.handler}" (route ${route.id})`);
      let integration = integrations.get(route.handler);
      if (!integration) {
        integration = new apigateway.LambdaIntegration(fn, { proxy: true, allowTestInvoke: false });
        integrations.set(route.handler, integration);
      }

      const requestParameters: Record<string, boolean> = {};
      for (const name of pathParameters(route.path)) requestParameters[`method.request.path.${name}`] = true;
      for (const q of route.query ?? []) {
        if (q.required && q.name !== 'key') throw new Error(`Api: route ${route.id} requires ?${q.name}=; the gateway's 400 names only a missing ?key=`);
        requestParameters[`method.request.querystring.${q.name}`] = q.required;
      }

      let requestModels: Record<string, apigateway.IModel> | undefined;
      if (route.body) {
        const model = this.restApi.addModel(`${pascal(route.id)}Model`, {
          modelName: `${pascal(route.id)}Body`,
          contentType: 'application/json',
          description: `Body of ${route.method} ${route.path}`,
          schema: toCdkJsonSchema(toGatewaySchema(route.body(props.schemaLimits))),
        });
        requestModels = { 'application/json': model };
      }

      const resource = this.restApi.root.resourceForPath(route.path);
      this.methods.push(
        resource.addMethod(route.method, integration, {
          operationName: route.id,
          requestParameters,
          requestModels,
          requestValidator: route.body ? bodyValidator : parameterValidator,
        }),
      );
    }

    if (props.waf) this.webAcl = this.addWebAcl(props.wafRateLimitPer5Min ?? 0);

    if (authMode === 'apiKey') {
      this.apiKey = this.restApi.addApiKey('ApiKey', { description: 'skycache: the default API key' });
      this.usagePlan = this.restApi.addUsagePlan('UsagePlan', {
        description: 'skycache: throttling and quota per API key',
        throttle: { rateLimit, burstLimit },
        quota: { limit: props.quotaLimit ?? 100_000, period: props.quotaPeriod ?? apigateway.Period.DAY },
        apiStages: [{ api: this.restApi, stage: this.stage }],
      });
      this.usagePlan.addApiKey(this.apiKey);
    }
  }

  get url(): string {
    return this.restApi.url;
  }

  private addWebAcl(rateLimit: number): wafv2.CfnWebACL {
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true });
    const rules: wafv2.CfnWebACL.RuleProperty[] = [
      {
        name: 'aws-ip-reputation',
        priority: 0,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesAmazonIpReputationList' } },
        visibilityConfig: visibility('skycache-ip-reputation'),
      },
    ];
    if (rateLimit > 0) {
      rules.push({
        name: 'rate-per-ip',
        priority: 1,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: rateLimit, aggregateKeyType: 'IP', evaluationWindowSec: 300 } },
        visibilityConfig: visibility('skycache-rate-per-ip'),
      });
    }
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('skycache-api'),
      rules,
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.stage.stageArn, webAclArn: acl.attrArn });
    return acl;
  }
}

/**
 * `{"error":{"code","message"}}` with the validator's message. escapeJavaScript also escapes `'` as `\'`, which is
 * not JSON: put those back.
 */
function errorTemplate(code: string): string {
  return `{"error":{"code":"${code}","message":"$util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\'","'")"}}`;
}

function pathParameters(path: string): string[] {
  return [...path.matchAll(/\{([^}+]+)\+?\}/g)].map((m) => m[1]);
}

function pascal(id: string): string {
  return id.replace(/(^|[^a-zA-Z0-9]+)([a-zA-Z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

/**
 * JSON Schema as API Gateway takes it → CDK's JsonSchema (which spells `$schema`, `$ref` and `$id` without the
 * dollar and maps them back). Property names under `properties`/`definitions`/`patternProperties` are kept.
 */
export function toCdkJsonSchema(schema: Record<string, unknown>): apigateway.JsonSchema {
  const convert = (value: unknown, childrenAreNames = false): unknown => {
    if (Array.isArray(value)) return value.map((v) => convert(v));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (childrenAreNames) {
        out[key] = convert(v);
        continue;
      }
      const name = key === '$schema' ? 'schema' : key === '$ref' ? 'ref' : key === '$id' ? 'id' : key;
      const named = ['properties', 'definitions', 'patternProperties', 'dependencies'].includes(key);
      out[name] = convert(v, named);
    }
    return out;
  };
  return convert(schema) as apigateway.JsonSchema;
}
