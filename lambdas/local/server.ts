import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { answerClientError, RouteMatcher, routeRequest, send, sendError, type RequestTarget } from '../http/node-http';
import { routes as routeTable, type RouteDefinition } from '../routes';
import { lambdaContextOf, proxyEventOf } from './proxy-event';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

function* headerPairs(raw: string[]): Iterable<[string, string]> {
  for (let i = 0; i < raw.length; i += 2) yield [raw[i], raw[i + 1]];
}

/** The proxy event API Gateway would send for this HTTP request. */
export function toProxyEvent(
  req: IncomingMessage,
  target: RequestTarget,
  route: RouteDefinition,
  pathParameters: Record<string, string>,
  body: Buffer,
  requestId: string,
): APIGatewayProxyEvent {
  // A body that is not UTF-8 travels base64-encoded, as API Gateway sends binary: the handler refuses it as such
  // instead of reading U+FFFD where the bad bytes were.
  const binary = body.length > 0 && !isUtf8(body);
  return proxyEventOf({
    route,
    path: target.pathname,
    headers: headerPairs(req.rawHeaders),
    query: target.query,
    pathParameters,
    body: body.length ? body.toString(binary ? 'base64' : 'utf8') : null,
    isBase64Encoded: binary,
    requestId,
    stage: 'local',
    sourceIp: req.socket.remoteAddress,
    protocol: `HTTP/${req.httpVersion}`,
  });
}

export interface LocalServerOptions {
  port?: number;
  host?: string;
  routes?: readonly RouteDefinition[];
  /** Resolves a route's handler module; by default the modules under lambdas/handlers/. */
  loadHandler?: (module: string) => ProxyHandler;
}

export interface LocalServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

function defaultLoader(module: string): ProxyHandler {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`../handlers/${module}`).handler as ProxyHandler;
}

/**
 * Serves the route table over HTTP by invoking the same handler functions that run in Lambda, with the events
 * API Gateway would send. Returns once it listens.
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const matcher = new RouteMatcher(options.routes ?? routeTable);
  const load = options.loadHandler ?? defaultLoader;
  const handlers = new Map<string, ProxyHandler>();
  const handlerFor = (module: string) => {
    let h = handlers.get(module);
    if (!h) handlers.set(module, (h = load(module)));
    return h;
  };

  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const routed = await routeRequest(req, res, requestId, matcher);
      if (typeof routed === 'number') return;
      const { route, target, params, body } = routed;
      const event = toProxyEvent(req, target, route, params, body, requestId);
      const result = await handlerFor(route.handler)(event, lambdaContextOf(requestId, `skycache-${route.handler}`));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      send(res, result.statusCode, headers, result.body ?? '');
    } catch {
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'the request could not be completed', requestId);
      else res.destroy();
    }
  });
  server.on('clientError', answerClientError);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host && options.host !== '0.0.0.0' ? options.host : '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
