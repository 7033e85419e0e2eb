import { Match } from 'aws-cdk-lib/assertions';
import { handlerModules, routes } from '../../lambdas/routes';
import type { Api } from '../../lib/constructs/api';
import { logicalIdAt, resourcesOf, synth, type Synthesized } from './helpers';

const dev = synth('dev');
const prod = synth('prod');
const iam = synth('dev', { authMode: 'iam' });

const bodyRoutes = routes.filter((r) => r.body);

/** The API Gateway front of a stack (front=api, the default). */
function api(s: Synthesized): Api {
  if (!s.stack.api) throw new Error('the stack has no API Gateway front');
  return s.stack.api;
}

/** The method resource of a route, found by HTTP method and the full resource path. */
function methodOf(s: Synthesized, method: string, path: string): Record<string, unknown> {
  const construct = api(s).methods.find((m) => m.httpMethod === method && m.resource.path === path);
  if (!construct) throw new Error(`no method ${method} ${path}`);
  const id = s.stack.resolve((construct.node.defaultChild as unknown as { logicalId: string }).logicalId) as string;
  return s.template.toJSON().Resources[id].Properties;
}

describe('API generated from the route table', () => {
  test('one method per route, one resource per distinct path', () => {
    dev.template.resourceCountIs('AWS::ApiGateway::Method', routes.length);
    const paths = new Set(routes.flatMap((r) => r.path.split('/').filter(Boolean).map((_, i, parts) => parts.slice(0, i + 1).join('/'))));
    dev.template.resourceCountIs('AWS::ApiGateway::Resource', paths.size);
  });

  test.each(routes.map((r) => [r.id, r] as const))('route %s: method, operation name, Lambda proxy to its handler', (_id, route) => {
    const m = methodOf(dev, route.method, route.path);
    expect(m.HttpMethod).toBe(route.method);
    expect(m.OperationName).toBe(route.id);
    const integration = m.Integration as { Type: string; IntegrationHttpMethod: string; Uri: unknown };
    expect(integration.Type).toBe('AWS_PROXY');
    expect(integration.IntegrationHttpMethod).toBe('POST');
    const fnId = logicalIdAt(dev, `${dev.stack.stackName}/${route.handler.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase())}Handler/Function`);
    expect(JSON.stringify(integration.Uri)).toContain(fnId);
  });

  test('one function per handler module (routes sharing a module share a function)', () => {
    // + 1: the snapshot exporter; + 1: the custom resource that restricts the default security group.
    dev.template.resourceCountIs('AWS::Lambda::Function', handlerModules().length + 2);
  });
});

describe('authorization on every method', () => {
  test('apiKey mode (default): every method requires an API key', () => {
    const methods = Object.values(resourcesOf(dev.template, 'AWS::ApiGateway::Method'));
    expect(methods.length).toBeGreaterThan(0);
    for (const m of methods) {
      if (m.Properties?.HttpMethod === 'OPTIONS') continue;
      expect(m.Properties?.ApiKeyRequired).toBe(true);
    }
  });

  test('iam mode: every method uses AWS_IAM', () => {
    const methods = Object.values(resourcesOf(iam.template, 'AWS::ApiGateway::Method'));
    for (const m of methods) {
      if (m.Properties?.HttpMethod === 'OPTIONS') continue;
      expect(m.Properties?.AuthorizationType).toBe('AWS_IAM');
    }
    iam.template.resourceCountIs('AWS::ApiGateway::ApiKey', 0);
    iam.template.resourceCountIs('AWS::ApiGateway::UsagePlan', 0);
  });

  test('no method is open', () => {
    for (const s of [dev, prod, iam]) {
      for (const m of Object.values(resourcesOf(s.template, 'AWS::ApiGateway::Method'))) {
        const p = m.Properties ?? {};
        expect(p.ApiKeyRequired === true || p.AuthorizationType === 'AWS_IAM').toBe(true);
      }
    }
  });

  test('API key bound to a usage plan with throttling and quota from the configuration', () => {
    dev.template.resourceCountIs('AWS::ApiGateway::ApiKey', 1);
    dev.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: dev.config.throttleRateLimit, BurstLimit: dev.config.throttleBurstLimit },
      Quota: { Limit: dev.config.quotaLimit, Period: dev.config.quotaPeriod },
      ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
    });
    dev.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', { KeyType: 'API_KEY' });
    prod.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      Throttle: { RateLimit: prod.config.throttleRateLimit, BurstLimit: prod.config.throttleBurstLimit },
      Quota: { Limit: prod.config.quotaLimit, Period: 'DAY' },
    });
  });
});

describe('request validation from the handlers’ schemas', () => {
  test('a body validator and a parameter validator exist', () => {
    dev.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    dev.template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: false, ValidateRequestParameters: true });
  });

  test.each(bodyRoutes.map((r) => [r.id, r] as const))('route %s validates its JSON body against a model', (_id, route) => {
    const m = methodOf(dev, route.method, route.path);
    expect(m.RequestValidatorId).toBeDefined();
    const models = m.RequestModels as Record<string, unknown>;
    expect(models['application/json']).toBeDefined();
  });

  test('every route has a validator (body or parameters)', () => {
    for (const m of Object.values(resourcesOf(dev.template, 'AWS::ApiGateway::Method'))) {
      expect(m.Properties?.RequestValidatorId).toBeDefined();
    }
  });

  test('models carry the draft-04 schema with limits from the configuration', () => {
    dev.template.resourceCountIs('AWS::ApiGateway::Model', bodyRoutes.length);
    dev.template.hasResourceProperties('AWS::ApiGateway::Model', {
      ContentType: 'application/json',
      Schema: Match.objectLike({
        type: 'object',
        additionalProperties: false,
        required: Match.arrayWith(['key']),
        properties: Match.objectLike({
          key: Match.objectLike({ type: 'string', minLength: 1, maxLength: dev.config.maxKeyBytes }),
          ttl: Match.objectLike({ maximum: dev.config.maxTtlSeconds }),
        }),
      }),
    });
    const s = synth('dev', { maxTtlSeconds: 86400, defaultTtlSeconds: 60 });
    s.template.hasResourceProperties('AWS::ApiGateway::Model', {
      Schema: Match.objectLike({ properties: Match.objectLike({ ttl: Match.objectLike({ maximum: 86400 }) }) }),
    });
  });

  test('required query parameters are required at the gateway', () => {
    for (const route of routes.filter((r) => r.query?.length)) {
      const m = methodOf(dev, route.method, route.path);
      for (const q of route.query ?? []) {
        expect((m.RequestParameters as Record<string, boolean>)[`method.request.querystring.${q.name}`]).toBe(q.required);
      }
    }
  });
});

describe('stage', () => {
  test.each([
    ['dev', dev, 'INFO'],
    ['prod', prod, 'ERROR'],
  ])('%s: access logs, X-Ray, metrics, throttling, logging level', (_n, s, level) => {
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: s.config.stageName,
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({
          LoggingLevel: level,
          MetricsEnabled: true,
          DataTraceEnabled: false,
          ThrottlingRateLimit: s.config.throttleRateLimit,
          ThrottlingBurstLimit: s.config.throttleBurstLimit,
        }),
      ],
    });
  });

  test('regional endpoint', () => {
    dev.template.hasResourceProperties('AWS::ApiGateway::RestApi', { EndpointConfiguration: { Types: ['REGIONAL'] } });
  });

  test('outputs: API URL and API key id', () => {
    dev.template.hasOutput('ApiUrl', {});
    dev.template.hasOutput('ApiKeyId', {});
    expect(Object.keys(iam.template.findOutputs('ApiKeyId'))).toHaveLength(0);
  });
});

test('validation failures at the gateway answer 400 in the handlers’ error shape', () => {
  dev.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'BAD_REQUEST_BODY',
    StatusCode: '400',
    ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":"VALIDATION_FAILED","message":') },
  });
  // the one required parameter is ?key=: its absence is INVALID_KEY, as the handlers answer it
  dev.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
    ResponseType: 'BAD_REQUEST_PARAMETERS',
    StatusCode: '400',
    ResponseTemplates: { 'application/json': Match.stringLikeRegexp('^\\{"error":\\{"code":"INVALID_KEY","message":') },
  });
});

describe('WAF', () => {
  test('prod associates a regional web ACL (IP reputation list) with the stage', () => {
    prod.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: Match.arrayWith([Match.objectLike({ Statement: { ManagedRuleGroupStatement: { VendorName: 'AWS', Name: 'AWSManagedRulesAmazonIpReputationList' } } })]),
    });
    const stageId = prod.stack.resolve((api(prod).stage.node.defaultChild as unknown as { logicalId: string }).logicalId);
    prod.template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', {
      ResourceArn: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([{ Ref: stageId }])] }),
    });
  });

  test('prod blocks an IP above its per-IP rate (100000 requests in 5 minutes by default)', () => {
    expect(prod.config.wafRateLimitPer5Min).toBe(100_000);
    prod.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([
        Match.objectLike({
          Name: 'rate-per-ip',
          Action: { Block: {} },
          Statement: { RateBasedStatement: { Limit: 100_000, AggregateKeyType: 'IP', EvaluationWindowSec: 300 } },
          VisibilityConfig: Match.objectLike({ CloudWatchMetricsEnabled: true }),
        }),
      ]),
    });
  });

  test('wafRateLimitPer5Min=0 leaves the rate rule out', () => {
    const s = synth('prod', { wafRateLimitPer5Min: 0 });
    const [acl] = Object.values(resourcesOf(s.template, 'AWS::WAFv2::WebACL'));
    expect(JSON.stringify(acl.Properties?.Rules)).not.toContain('RateBasedStatement');
  });

  test('a per-IP rate rule when configured', () => {
    const s = synth('prod', { wafRateLimitPer5Min: 5000 });
    s.template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Rules: Match.arrayWith([Match.objectLike({ Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: 5000, AggregateKeyType: 'IP' } } })]),
    });
  });

  test('dev has no web ACL', () => {
    dev.template.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });
});
