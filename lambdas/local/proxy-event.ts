import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import type { RouteDefinition } from '../routes';

/** One request, as the parts API Gateway puts into a REST proxy event. */
export interface ProxyRequest {
  route: Pick<RouteDefinition, 'id' | 'method' | 'path'>;
  /** The request path as received (still percent-encoded, as API Gateway REST keeps it). */
  path: string;
  /** Header name/value pairs in arrival order; a name may repeat. */
  headers: Iterable<[string, string]>;
  query: Iterable<[string, string]>;
  /** Path parameters, already decoded. */
  pathParameters: Record<string, string>;
  body: string | null;
  /** The body is base64 (API Gateway's form for bytes that are not text). */
  isBase64Encoded?: boolean;
  requestId: string;
  stage: string;
  sourceIp?: string;
  protocol?: string;
}

function collect(pairs: Iterable<[string, string]>): [Record<string, string>, Record<string, string[]>] {
  const single: Record<string, string> = {};
  const multi: Record<string, string[]> = {};
  for (const [k, v] of pairs) {
    single[k] = v;
    (multi[k] ??= []).push(v);
  }
  return [single, multi];
}

/**
 * The API Gateway REST proxy event (payload v1) the deployed API would send: the local server and the benchmark
 * both invoke the handlers with it.
 */
export function proxyEventOf(req: ProxyRequest): APIGatewayProxyEvent {
  const [headers, multiValueHeaders] = collect(req.headers);
  const [query, multiQuery] = collect(req.query);
  const hasQuery = Object.keys(query).length > 0;
  const hasParams = Object.keys(req.pathParameters).length > 0;
  return {
    resource: req.route.path,
    path: req.path,
    httpMethod: req.route.method,
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: hasParams ? req.pathParameters : null,
    stageVariables: null,
    body: req.body,
    isBase64Encoded: req.isBase64Encoded ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: req.stage,
      authorizer: null,
      protocol: req.protocol ?? 'HTTP/1.1',
      httpMethod: req.route.method,
      identity: { sourceIp: req.sourceIp ?? '127.0.0.1', userAgent: headers['user-agent'] ?? headers['User-Agent'] ?? null } as APIGatewayProxyEvent['requestContext']['identity'],
      path: req.path,
      stage: req.stage,
      requestId: req.requestId,
      requestTimeEpoch: Date.now(),
      resourceId: req.route.id,
      resourcePath: req.route.path,
    },
  };
}

/** The Lambda context a handler gets outside Lambda: enough for the logger, and 30 s to run (API Gateway's cap). */
export function lambdaContextOf(requestId: string, functionName: string, logStreamName = 'local'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName,
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}
