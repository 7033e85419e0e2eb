import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { routes as routeTable, type RouteDefinition } from '../routes';
import { errorBody, REQUEST_ID_HEADER } from '../http/results';
import { lambdaContextOf, proxyEventOf } from './proxy-event';

type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** API Gateway refuses payloads over 10 MB; the local server does the same. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  route: RouteDefinition;
  segments: string[];
  /** More literal segments win, as API Gateway prefers /cache/stats over /cache/{key}. */
  specificity: number;
}

function compile(route: RouteDefinition): CompiledRoute {
  const segments = route.path.split('/').filter(Boolean);
  return { route, segments, specificity: segments.filter((s) => !s.startsWith('{')).length };
}

function matchPath(compiled: CompiledRoute, parts: string[]): Record<string, string> | null {
  if (compiled.segments.length !== parts.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const seg = compiled.segments[i];
    if (seg.startsWith('{')) params[seg.slice(1, -1)] = parts[i];
    else if (seg !== parts[i]) return null;
  }
  return params;
}

const NO_BODY = Buffer.alloc(0);

function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  // Most requests (GET, DELETE) carry no body: skip the stream plumbing for them.
  const length = req.headers['content-length'];
  if (req.headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return Promise.resolve(NO_BODY);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function* headerPairs(raw: string[]): Iterable<[string, string]> {
  for (let i = 0; i < raw.length; i += 2) yield [raw[i], raw[i + 1]];
}

/** A request target split as received: no dot-segment removal (so `/cache/%2E` names the key "."). */
export interface RequestTarget {
  /** Still percent-encoded. */
  pathname: string;
  query: [string, string][];
}

/** Percent-decoding that refuses what is not UTF-8 (WHATWG URL parsing would turn it into U+FFFD silently). */
function decodeStrict(text: string): string | undefined {
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

class TargetError extends Error {
  constructor(
    readonly code: 'INVALID_KEY' | 'VALIDATION_FAILED',
    message: string,
  ) {
    super(message);
  }
}

/** Splits and decodes the request target; throws TargetError naming the part that is not percent-encoded UTF-8. */
export function parseTarget(rawUrl: string): RequestTarget & { parts: string[] } {
  const at = rawUrl.indexOf('?');
  const pathname = at < 0 ? rawUrl : rawUrl.slice(0, at);
  const search = at < 0 ? '' : rawUrl.slice(at + 1);
  const parts = pathname.split('/').filter(Boolean).map((segment) => {
    const decoded = decodeStrict(segment);
    if (decoded === undefined) {
      throw new TargetError('INVALID_KEY', `the path segment "${segment}" is not percent-encoded UTF-8`);
    }
    return decoded;
  });
  const query: [string, string][] = [];
  for (const pair of search.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const [rawName, rawValue] = eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const name = decodeStrict(rawName.replace(/\+/g, ' '));
    const value = decodeStrict(rawValue.replace(/\+/g, ' '));
    if (name === undefined || value === undefined) {
      const code = name === 'key' ? 'INVALID_KEY' : 'VALIDATION_FAILED';
      throw new TargetError(code, `the query parameter "${name ?? rawName}" is not percent-encoded UTF-8`);
    }
    query.push([name, value]);
  }
  return { pathname: pathname || '/', query, parts };
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

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendError(res: ServerResponse, status: number, code: string, message: string, requestId: string, extra: Record<string, string> = {}): void {
  send(
    res,
    status,
    { 'content-type': 'application/json; charset=utf-8', [REQUEST_ID_HEADER]: requestId, ...extra },
    JSON.stringify(errorBody(code, message)),
  );
}

/** What Node's HTTP parser refuses before any handler runs, as the JSON error model (Node would send no body). */
const PARSER_ERRORS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'HEADERS_TOO_LARGE', 'the request line and headers exceed the 16 KB the server accepts'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'],
  HPE_HEADERS_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request headers did not arrive in time'],
};

function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable || error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  const [status, code, message] = PARSER_ERRORS[error.code ?? ''] ?? [
    400,
    'BAD_REQUEST',
    'the request is not valid HTTP/1.1 (bytes outside ASCII in the path must be percent-encoded as UTF-8)',
  ];
  const body = JSON.stringify(errorBody(code, message));
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `${REQUEST_ID_HEADER}: ${randomUUID()}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/**
 * Serves the route table over HTTP by invoking the same handler functions that run in Lambda, with the events
 * API Gateway would send. Returns once it listens.
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const compiled = (options.routes ?? routeTable).map(compile).sort((a, b) => b.specificity - a.specificity);
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
      let target: ReturnType<typeof parseTarget>;
      try {
        target = parseTarget(req.url ?? '/');
      } catch (e) {
        if (!(e instanceof TargetError)) throw e;
        return sendError(res, 400, e.code, e.message, requestId);
      }
      const { parts } = target;
      const url = { pathname: target.pathname };
      const candidates = compiled
        .map((c) => ({ c, params: matchPath(c, parts) }))
        .filter((m): m is { c: CompiledRoute; params: Record<string, string> } => m.params !== null);
      if (candidates.length === 0) {
        return sendError(res, 404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${url.pathname}`, requestId);
      }
      const chosen = candidates.find((m) => m.c.route.method === req.method);
      if (!chosen) {
        const allowed = [...new Set(candidates.map((m) => m.c.route.method))].join(', ');
        return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${allowed}`, requestId, { allow: allowed });
      }
      const body = await readBody(req);
      if (body === 'too-large') {
        return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`, requestId);
      }
      const { route } = chosen.c;
      const event = toProxyEvent(req, target, route, chosen.params, body, requestId);
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
