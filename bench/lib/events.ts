import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { lambdaContextOf, proxyEventOf } from '../../lambdas/local/proxy-event';
import type { RouteDefinition } from '../../lambdas/routes';

export interface SampleRequest {
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
}

let counter = 0;
/** The API Gateway REST proxy event the deployed API would send for this route and request. */
export function proxyEvent(route: RouteDefinition, request: SampleRequest = {}): APIGatewayProxyEvent {
  let path = route.path;
  for (const [k, v] of Object.entries(request.pathParameters ?? {})) path = path.replace(`{${k}}`, encodeURIComponent(v));
  const hasBody = request.body !== undefined;
  return proxyEventOf({
    route,
    path,
    headers: Object.entries({ host: 'bench.local', 'user-agent': 'skycache-bench', ...(hasBody ? { 'content-type': 'application/json' } : {}) }),
    query: Object.entries(request.query ?? {}),
    pathParameters: request.pathParameters ?? {},
    body: hasBody ? JSON.stringify(request.body) : null,
    requestId: `bench-${++counter}`,
    stage: 'bench',
  });
}

export function lambdaContext(functionName = 'skycache-bench'): Context {
  return lambdaContextOf('bench', functionName, 'bench');
}
