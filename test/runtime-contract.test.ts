/**
 * The runtime contract end to end: a stack synthesized with non-default limits writes the functions' environment,
 * and API Gateway's request models (draft-04 JSON Schema, checked here with Ajv) and the handlers running under
 * that environment accept and refuse the same bodies.
 */
import Ajv from 'ajv';
import { ENV, loadRuntimeConfig, runtimeEnvironment } from '../lambdas/core/config';
import { handler as invalidate } from '../lambdas/handlers/invalidate';
import { handler as setEntry } from '../lambdas/handlers/set-entry';
import { routes } from '../lambdas/routes';
import { logicalIdAt, resourcesOf, synth } from './infra/helpers';
import { jsonEvent, lambdaContext } from './support/events';
import { restoreServiceEnv, setServiceEnv } from './support/env';
import { useRedisServer } from './support/redis';

const limits = { maxKeyBytes: 2048, maxInvalidateKeys: 5, maxTtlSeconds: 7200, defaultTtlSeconds: 60, maxValueBytes: 4096 };
const s = synth('dev', limits);

/** The plain-string variables of a function's environment (the cache endpoint ones are CDK tokens). */
function functionEnvironment(module: string): Record<string, string> {
  const pascal = module.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase());
  const fnId = logicalIdAt(s, `${s.stack.stackName}/${pascal}Handler/Function`);
  const vars = s.template.toJSON().Resources[fnId].Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(vars).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** API Gateway's model of a route's body, as synthesized, compiled into a validator. */
function gatewayModel(routeId: string) {
  const route = routes.find((r) => r.id === routeId)!;
  const models = Object.values(resourcesOf(s.template, 'AWS::ApiGateway::Model'));
  const model = models.find((m) => m.Properties?.Description === `Body of ${route.method} ${route.path}`)!;
  const { $schema: _draft, ...schema } = model.Properties!.Schema as Record<string, unknown>;
  return new Ajv({ schemaId: 'auto' }).compile(schema);
}

test('the stack writes every runtime setting through the contract, and it reads back as configured', () => {
  for (const module of ['set-entry', 'invalidate', 'lists']) {
    const env = functionEnvironment(module);
    expect(env).toMatchObject(runtimeEnvironment(s.config));
    expect(loadRuntimeConfig(env)).toMatchObject(limits);
    expect(env[ENV.maxKeyBytes]).toBe('2048');
  }
});

describe('API Gateway and the handlers agree under non-default limits', () => {
  useRedisServer();
  // Only the runtime settings: the cache endpoint variables name ElastiCache (TLS, RBAC), not this test's Redis.
  const runtimeNames = Object.keys(runtimeEnvironment(loadRuntimeConfig({})));
  beforeAll(() =>
    setServiceEnv(Object.fromEntries(Object.entries(functionEnvironment('set-entry')).filter(([name]) => runtimeNames.includes(name)))),
  );
  afterAll(() => restoreServiceEnv());

  const cases: [string, string, (b: unknown) => Promise<{ statusCode: number }>, unknown, boolean][] = [
    ['setEntry', 'key at the configured maximum', (b) => setEntry(jsonEvent('POST', '/cache', b), lambdaContext), { key: 'k'.repeat(2048), value: 1 }, true],
    ['setEntry', 'key one byte over (the default limit would have refused at 1025)', (b) => setEntry(jsonEvent('POST', '/cache', b), lambdaContext), { key: 'k'.repeat(2049), value: 1 }, false],
    ['setEntry', 'key between the default and the configured limit', (b) => setEntry(jsonEvent('POST', '/cache', b), lambdaContext), { key: 'm'.repeat(1500), value: 1 }, true],
    ['setEntry', 'ttl at the configured maximum', (b) => setEntry(jsonEvent('POST', '/cache', b), lambdaContext), { key: 't', value: 1, ttl: 7200 }, true],
    ['setEntry', 'ttl over the configured maximum', (b) => setEntry(jsonEvent('POST', '/cache', b), lambdaContext), { key: 't', value: 1, ttl: 7201 }, false],
    ['invalidate', 'as many keys as configured', (b) => invalidate(jsonEvent('POST', '/cache/invalidate', b), lambdaContext), { keys: ['a', 'b', 'c', 'd', 'e'] }, true],
    ['invalidate', 'one key more than configured', (b) => invalidate(jsonEvent('POST', '/cache/invalidate', b), lambdaContext), { keys: ['a', 'b', 'c', 'd', 'e', 'f'] }, false],
    ['invalidate', 'a prefix at the configured key length', (b) => invalidate(jsonEvent('POST', '/cache/invalidate', b), lambdaContext), { prefix: 'p'.repeat(2048) }, true],
    ['invalidate', 'a prefix over the configured key length', (b) => invalidate(jsonEvent('POST', '/cache/invalidate', b), lambdaContext), { prefix: 'p'.repeat(2049) }, false],
  ];

  test.each(cases)('%s: %s', async (routeId, _what, call, body, accepted) => {
    const validate = gatewayModel(routeId);
    expect(validate(body)).toBe(accepted);
    const res = await call(body);
    if (accepted) expect(res.statusCode).toBeLessThan(300);
    else expect(res.statusCode).toBe(400);
  });
});
