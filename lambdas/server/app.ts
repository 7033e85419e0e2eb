import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorBody, REQUEST_ID_HEADER } from '../shared/http';
import type { AccessLog } from './access-log';
import { API_KEY_HEADER, type ApiKeys } from './api-keys';
import { checkReadiness, LIVENESS_PATH, READINESS_PATH } from './health';
import type { RequestMetrics } from './request-metrics';

/**
 * Serves one API request that passed admission and auth: writes the whole response, never throws. Resolves to the
 * route's path as in the route table (for the access log), or undefined when no route matched.
 */
export type RouteDispatcher = (req: IncomingMessage, res: ServerResponse, requestId: string) => Promise<string | undefined>;

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

function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string, extra?: Record<string, string>): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(text), [REQUEST_ID_HEADER]: requestId, ...extra });
  res.end(text);
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

  const finish = (req: IncomingMessage, res: ServerResponse, requestId: string, started: number, resourcePath: string | undefined) => {
    const status = res.statusCode;
    const durationMs = performance.now() - started;
    o.metrics?.record(status, durationMs);
    if (o.accessLog?.wants(status)) {
      o.accessLog.write({
        requestId,
        ip: req.socket.remoteAddress,
        method: req.method,
        resourcePath,
        status,
        responseLength: Number(res.getHeader('content-length') ?? 0),
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
      void health(req, res, path, requestId, o).then((route) => finish(req, res, requestId, started, route));
      return;
    }
    if (inFlight >= o.maxInFlight) {
      sendJson(res, 503, errorBody('UNAVAILABLE', `this server is at its limit of ${o.maxInFlight} requests in flight; retry shortly`), requestId, retryAfter);
      o.metrics?.recordRejected();
      finish(req, res, requestId, started, undefined);
      return;
    }
    inFlight++;
    res.once('close', () => inFlight--);
    const keys = o.keys();
    if (keys !== undefined) {
      if (keys === 'loading') {
        sendJson(res, 503, errorBody('UNAVAILABLE', 'the API keys have not been loaded yet; retry shortly'), requestId, retryAfter);
        finish(req, res, requestId, started, undefined);
        return;
      }
      const header = req.headers[API_KEY_HEADER];
      const verdict = keys.check(Array.isArray(header) ? header[0] : header);
      if (verdict !== 'ok') {
        if (verdict === 'missing') sendJson(res, 401, errorBody('UNAUTHORIZED', `an API key is required in the ${API_KEY_HEADER} header`), requestId);
        else sendJson(res, 403, errorBody('FORBIDDEN', `the API key in the ${API_KEY_HEADER} header is not valid`), requestId);
        finish(req, res, requestId, started, undefined);
        return;
      }
    }
    o.dispatch(req, res, requestId).then(
      (route) => finish(req, res, requestId, started, route),
      () => {
        // The dispatcher answers every failure itself; this only guards against a broken one.
        if (!res.headersSent) sendJson(res, 500, errorBody('INTERNAL', 'the request could not be completed'), requestId);
        else res.destroy();
        finish(req, res, requestId, started, undefined);
      },
    );
  };
}

async function health(req: IncomingMessage, res: ServerResponse, path: string, requestId: string, o: AppOptions): Promise<string> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, errorBody('METHOD_NOT_ALLOWED', `${req.method} is not allowed here; use GET`), requestId, { allow: 'GET' });
    return path;
  }
  if (path === LIVENESS_PATH) {
    sendJson(res, 200, { status: 'ok', worker: o.workerId ?? 0, pid: process.pid }, requestId);
    return path;
  }
  const readiness = await checkReadiness(o.keys() !== 'loading');
  if (readiness.ready) sendJson(res, 200, { status: 'ready' }, requestId);
  else sendJson(res, 503, errorBody('UNAVAILABLE', `not ready: ${readiness.reason}`), requestId, { 'retry-after': String(o.retryAfterSeconds) });
  return path;
}
