import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, REQUEST_ID_HEADER } from '../http/results';
import type { AccessLog } from './access-log';
import { API_KEY_HEADER, type ApiKeys } from './api-keys';
import { checkReadiness, LIVENESS_PATH, READINESS_PATH } from './health';
import type { RequestMetrics } from './request-metrics';

/** What the access log says of an answered request. */
export interface Served {
  /** The route's path as in the route table; undefined when no route matched. */
  resourcePath?: string;
  /** Bytes of the response body. */
  bytes: number;
}

/** Serves one API request that passed admission and auth: writes the whole response, never throws. */
export type RouteDispatcher = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<Served>;

/** The accepted keys; `loading` until the first read of the configured source succeeded (requests get 503). */
export type KeyState = ApiKeys | undefined | 'loading';

export interface AppOptions {
  dispatch: RouteDispatcher;
  keys: () => KeyState;
  /** Requests this worker serves at once; past it, 503 + Retry-After. */
  maxInFlight: number;
  retryAfterSeconds: number;
  accessLog?: AccessLog;
  metrics?: RequestMetrics;
  /** Told to the liveness route, so a caller can see which worker answered. */
  workerId?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, extra?: Record<string, string>, resourcePath?: string): Served {
  const text = JSON.stringify(body);
  const bytes = Buffer.byteLength(text);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': bytes, [REQUEST_ID_HEADER]: requestId, ...extra });
  res.end(text);
  return { resourcePath, bytes };
}

function pathOf(url: string | undefined): string {
  if (!url) return '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/**
 * The production server's request listener, in this order: the health routes (no auth, never refused, so an
 * overloaded worker is not taken for a dead one), the in-flight bound (503 + Retry-After past it), API-key auth in
 * the header API Gateway uses (401 without a key, 403 with a wrong one), then the route table. Every answer is
 * counted in the request metrics and, sampled, written to the access log.
 */
export function createApp(o: AppOptions): (req: IncomingMessage, res: ServerResponse) => void {
  let inFlight = 0;
  const retryAfter = { 'retry-after': String(o.retryAfterSeconds) };

  const finish = (req: IncomingMessage, res: ServerResponse, requestId: string, started: number, served: Served) => {
    const status = res.statusCode;
    const durationMs = performance.now() - started;
    o.metrics?.record(status, durationMs);
    if (o.accessLog?.wants(status)) {
      o.accessLog.write({
        requestId,
        ip: req.socket.remoteAddress,
        method: req.method,
        resourcePath: served.resourcePath,
        status,
        responseLength: served.bytes,
        durationMs: Math.round(durationMs * 1000) / 1000,
        protocol: `HTTP/${req.httpVersion}`,
      });
    }
  };

  return (req, res) => {
    const started = performance.now();
    const requestId = randomUUID();
    const path = pathOf(req.url);
    if (path === LIVENESS_PATH || path === READINESS_PATH) {
      void health(req, res, path, requestId, o).then((served) => finish(req, res, requestId, started, served));
      return;
    }
    if (inFlight >= o.maxInFlight) {
      o.metrics?.recordRejected();
      const message = `this server is at its limit of ${o.maxInFlight} requests in flight; retry shortly`;
      finish(req, res, requestId, started, sendJson(res, 503, errorBody('UNAVAILABLE', message), requestId, retryAfter));
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    const keys = o.keys();
    if (keys !== undefined) {
      const refusal = refuse(keys, req.headers[API_KEY_HEADER]);
      if (refusal) {
        finish(req, res, requestId, started, sendJson(res, refusal[0], refusal[1], requestId, refusal[0] === 503 ? retryAfter : undefined));
        return;
      }
    }
    o.dispatch(req, res, requestId).then(
      (served) => finish(req, res, requestId, started, served),
      () => {
        // The dispatcher answers every failure itself; this only guards against a broken one.
        if (!res.headersSent) finish(req, res, requestId, started, sendJson(res, 500, errorBody('INTERNAL', 'the request could not be completed'), requestId));
        else res.destroy();
      },
    );
  };
}

/** The status and error body that refuse a request without an accepted key, or undefined to let it through. */
function refuse(keys: ApiKeys | 'loading', header: string | string[] | undefined): [number, ReturnType<typeof errorBody>] | undefined {
  if (keys === 'loading') return [503, errorBody('UNAVAILABLE', 'the API keys have not been loaded yet; retry shortly')];
  const verdict = keys.check(Array.isArray(header) ? header[0] : header);
  if (verdict === 'ok') return undefined;
  return verdict === 'missing'
    ? [401, errorBody('UNAUTHORIZED', `an API key is required in the ${API_KEY_HEADER} header`)]
    : [403, errorBody('FORBIDDEN', `the API key in the ${API_KEY_HEADER} header is not valid`)];
}

async function health(req: IncomingMessage, res: ServerResponse, path: string, requestId: string, o: AppOptions): Promise<Served> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return sendJson(res, 405, errorBody('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET`), requestId, { allow: 'GET' }, path);
  }
  if (path === LIVENESS_PATH) return sendJson(res, 200, { status: 'ok', worker: o.workerId ?? 0, pid: process.pid }, requestId, undefined, path);
  const readiness = await checkReadiness(o.keys() !== 'loading');
  return readiness.ready
    ? sendJson(res, 200, { status: 'ready' }, requestId, undefined, path)
    : sendJson(res, 503, errorBody('UNAVAILABLE', `not ready: ${readiness.reason}`), requestId, { 'retry-after': String(o.retryAfterSeconds) }, path);
}
