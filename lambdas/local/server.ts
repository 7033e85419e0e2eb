import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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

/** The last `id:` field of a text/event-stream body (what an EventSource would send back as Last-Event-ID). */
function lastEventIdOf(body: string): string | undefined {
  const ids = [...body.matchAll(/^id: ?(.*)$/gm)];
  return ids.length ? ids[ids.length - 1][1] : undefined;
}

/** The request with query parameters replaced (a null value removes one). */
function withQuery(event: APIGatewayProxyEvent, changes: Record<string, string | null>): APIGatewayProxyEvent {
  const query: Record<string, string> = { ...event.queryStringParameters } as Record<string, string>;
  for (const [k, v] of Object.entries(changes)) {
    if (v === null) delete query[k];
    else query[k] = v;
  }
  const multi = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]));
  const some = Object.keys(query).length > 0;
  return { ...event, queryStringParameters: some ? query : null, multiValueQueryStringParameters: some ? multi : null };
}

/** The same request, resuming after `lastEventId` (which replaces ?after= and any Last-Event-ID it carried). */
function resumedEvent(event: APIGatewayProxyEvent, lastEventId: string | undefined): APIGatewayProxyEvent {
  const strip = <T>(o: Record<string, T> | null) => Object.fromEntries(Object.entries(o ?? {}).filter(([k]) => k.toLowerCase() !== 'last-event-id'));
  const resumed = withQuery(event, { after: null });
  return {
    ...resumed,
    headers: { ...strip(event.headers), ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
    multiValueHeaders: { ...strip(event.multiValueHeaders), ...(lastEventId ? { 'last-event-id': [lastEventId] } : {}) },
  };
}

/**
 * Server-Sent Events over one connection (docs/pubsub.md). A handler answers a text/event-stream request with one
 * batch (all API Gateway can relay: an EventSource there reconnects with Last-Event-ID after each); here the
 * response stays open and the handler is invoked again after the last id it sent, until the client goes away or
 * an answer is not a 200 (the client then reconnects and resumes). It speaks the subscribe routes' parameters:
 * the first invocation gets ?wait=0, the later ones Last-Event-ID instead of ?after=.
 */
async function streamEvents(
  res: ServerResponse,
  headers: Record<string, string>,
  firstBody: string,
  next: (lastEventId: string | undefined) => Promise<APIGatewayProxyResult>,
): Promise<void> {
  let open = true;
  res.on('close', () => (open = false));
  const { 'content-length': _length, ...streamed } = headers;
  res.writeHead(200, { ...streamed, 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  let body = firstBody;
  let lastEventId: string | undefined;
  while (open) {
    res.write(body);
    lastEventId = lastEventIdOf(body) ?? lastEventId;
    const result = await next(lastEventId);
    if (result.statusCode !== 200) break;
    body = result.body ?? '';
  }
  res.end();
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
  // Every handler module before the first request: each provides its stores (services.ts provideStores), whose
  // scripts must be on the client before any request's command can join an auto-pipeline.
  for (const route of options.routes ?? routeTable) handlerFor(route.handler);

  const server = createServer(async (req, res) => {
    const requestId = randomUUID();
    try {
      const routed = await routeRequest(req, res, requestId, matcher);
      if (typeof routed === 'number') return;
      const { route, target, params, body } = routed;
      const event = toProxyEvent(req, target, route, params, body, requestId);
      const streaming = req.method === 'GET' && /\btext\/event-stream\b/i.test(req.headers.accept ?? '');
      // An event stream's headers go out at once: its first answer does not wait (see streamEvents).
      const first = streaming ? withQuery(event, { wait: '0' }) : event;
      const result = await handlerFor(route.handler)(first, lambdaContextOf(requestId, `skycache-${route.handler}`));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      if (result.statusCode === 200 && /^text\/event-stream/i.test(headers['content-type'] ?? '')) {
        const handler = handlerFor(route.handler);
        return await streamEvents(res, headers, result.body ?? '', (lastEventId) =>
          handler(resumedEvent(event, lastEventId), lambdaContextOf(requestId, `skycache-${route.handler}`)),
        );
      }
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
