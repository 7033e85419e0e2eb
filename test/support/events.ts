import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { lambdaContextOf, proxyEventOf } from '../../lambdas/local/proxy-event';

/**
 * An API Gateway REST proxy event as the deployed API sends it (path parameters already decoded): the one builder
 * the local server and the benchmark use, with the test's fields laid over it.
 */
export function proxyEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  const base = proxyEventOf({
    route: { id: 'test', method: 'GET', path: '/' },
    path: '/',
    headers: [],
    query: [],
    pathParameters: {},
    body: null,
    requestId: `test-${Math.random().toString(36).slice(2)}`,
    stage: 'test',
  });
  return { ...base, ...overrides };
}

export function jsonEvent(method: string, resource: string, body: unknown, extra: Partial<APIGatewayProxyEvent> = {}) {
  return proxyEvent({
    httpMethod: method,
    resource,
    path: resource,
    headers: { 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...extra,
  });
}

export const lambdaContext: Context = { ...lambdaContextOf('ctx', 'test'), getRemainingTimeInMillis: () => 10_000 };
