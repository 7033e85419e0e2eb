import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { RouteDefinition } from '../routes';
import { errorBody, REQUEST_ID_HEADER } from './results';

/**
 * What both Node HTTP fronts share — the local server (lambdas/local/server.ts: proxy events for the Lambda
 * handlers) and the production server (lambdas/server/: the route code called directly): the request target, the
 * route it names (404, 405), the body (413), and the JSON error model for what Node's parser refuses.
 */

/** API Gateway refuses payloads over 10 MB (10 MiB, 10,485,760 bytes); the servers do the same. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** One resource of the route tree: its routes by method, its literal children, its parameter child. */
interface Resource {
  routes: Map<string, { route: RouteDefinition; names: (string | undefined)[] }>;
  literals: Map<string, Resource>;
  parameter?: Resource;
}

const newResource = (): Resource => ({ routes: new Map(), literals: new Map() });

/**
 * The route table as API Gateway resolves it: segment by segment, a literal segment wins over a parameter, without
 * going back. So `/cache/stats` is the stats resource for every method (DELETE /cache/stats is a 405, never the key
 * "stats"), and `/cache/batch`, a resource with no method of its own, is a 404: such reserved names are reached with
 * `?key=` (docs/api.md, "Keys").
 */
export class RouteMatcher {
  private readonly root = newResource();

  constructor(table: readonly RouteDefinition[]) {
    for (const route of table) {
      let node = this.root;
      const names: (string | undefined)[] = [];
      for (const segment of route.path.split('/').filter(Boolean)) {
        if (segment.startsWith('{')) {
          node = node.parameter ??= newResource();
          names.push(segment.slice(1, -1));
        } else {
          let child = node.literals.get(segment);
          if (!child) node.literals.set(segment, (child = newResource()));
          node = child;
          names.push(undefined);
        }
      }
      node.routes.set(route.method, { route, names });
    }
  }

  /** The route for this method and these decoded path segments; else the methods the path allows; else undefined. */
  match(method: string | undefined, parts: readonly string[]): { route: RouteDefinition; params: Record<string, string> } | { allowed: string } | undefined {
    let node: Resource | undefined = this.root;
    for (const part of parts) {
      node = node.literals.get(part) ?? node.parameter;
      if (!node) return undefined;
    }
    if (node.routes.size === 0) return undefined;
    const found = node.routes.get(method ?? '');
    if (!found) return { allowed: [...node.routes.keys()].join(', ') };
    const params: Record<string, string> = {};
    found.names.forEach((name, i) => {
      if (name !== undefined) params[name] = parts[i];
    });
    return { route: found.route, params };
  }
}

const NO_BODY = Buffer.alloc(0);

export function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
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

export class TargetError extends Error {
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
  const parts: string[] = [];
  for (const segment of pathname.split('/')) {
    if (!segment) continue;
    // Most segments have nothing to decode: decodeURIComponent (and its try/catch) only for those that do.
    const decoded = segment.includes('%') ? decodeStrict(segment) : segment;
    if (decoded === undefined) {
      throw new TargetError('INVALID_KEY', `the path segment "${segment}" is not percent-encoded UTF-8`);
    }
    parts.push(decoded);
  }
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

/** A request whose route was found and whose body was read. */
export interface RoutedRequest {
  route: RouteDefinition;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  target: RequestTarget & { parts: string[] };
  body: Buffer;
}

/**
 * Finds the request's route and reads its body, answering what stops it — a target that is not percent-encoded
 * UTF-8 (400), no such route (404) or method (405), a body over MAX_BODY_BYTES (413) — in the JSON error model.
 * Resolves to the routed request, or to the size of the refusal it sent.
 */
export async function routeRequest(req: IncomingMessage, res: ServerResponse, requestId: string, matcher: RouteMatcher): Promise<RoutedRequest | number> {
  let target: RequestTarget & { parts: string[] };
  try {
    target = parseTarget(req.url ?? '/');
  } catch (e) {
    if (!(e instanceof TargetError)) throw e;
    return sendError(res, 400, e.code, e.message, requestId);
  }
  const match = matcher.match(req.method, target.parts);
  if (!match) return sendError(res, 404, 'ROUTE_NOT_FOUND', `no route for ${req.method} ${target.pathname}`, requestId);
  if ('allowed' in match) {
    return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use ${match.allowed}`, requestId, { allow: match.allowed });
  }
  const body = await readBody(req);
  if (body === 'too-large') return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `request body exceeds ${MAX_BODY_BYTES} bytes`, requestId);
  return { route: match.route, params: match.params, target, body };
}

/** Writes a whole response; resolves to the body's size in bytes. */
export function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): number {
  const bytes = Buffer.byteLength(body);
  res.writeHead(status, { ...headers, 'content-length': bytes });
  res.end(body);
  return bytes;
}

export function sendError(res: ServerResponse, status: number, code: string, message: string, requestId: string, extra: Record<string, string> = {}): number {
  return send(
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

export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
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
