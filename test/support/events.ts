import type { APIGatewayProxyEvent, Context } from 'aws-lambda';

/** An API Gateway REST proxy event as the deployed API sends it (path parameters already decoded). */
export function proxyEvent(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    resource: '/',
    path: '/',
    httpMethod: 'GET',
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: `test-${Math.random().toString(36).slice(2)}` } as APIGatewayProxyEvent['requestContext'],
    ...overrides,
  };
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

export const lambdaContext = { awsRequestId: 'ctx', functionName: 'test', getRemainingTimeInMillis: () => 10_000 } as Context;
