import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { RouteDefinition } from '../../lambdas/routes';

export interface SampleRequest {
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

let counter = 0;
/** The API Gateway REST proxy event the deployed API would send for this route and request. */
export function proxyEvent(route: RouteDefinition, request: SampleRequest = {}): APIGatewayProxyEvent {
  const requestId = `bench-${++counter}`;
  let path = route.path;
  for (const [k, v] of Object.entries(request.pathParameters ?? {})) path = path.replace(`{${k}}`, encodeURIComponent(v));
  const hasBody = request.body !== undefined;
  const headers: Record<string, string> = { host: 'bench.local', ...(hasBody ? { 'content-type': 'application/json' } : {}) };
  return {
    resource: route.path,
    path,
    httpMethod: route.method,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: request.query ?? null,
    multiValueQueryStringParameters: request.query
      ? Object.fromEntries(Object.entries(request.query).map(([k, v]) => [k, [v]]))
      : null,
    pathParameters: request.pathParameters ?? null,
    stageVariables: null,
    body: hasBody ? JSON.stringify(request.body) : null,
    isBase64Encoded: false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: route.method,
      identity: { sourceIp: '127.0.0.1', userAgent: 'skycache-bench' } as APIGatewayProxyEvent['requestContext']['identity'],
      path,
      stage: 'bench',
      requestId,
      requestTimeEpoch: Date.now(),
      resourceId: route.id,
      resourcePath: route.path,
    },
  };
}

export function lambdaContext(functionName = 'skycache-bench'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: 'bench',
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
