import { logger } from '../core/logger';

/** One answered request, as API Gateway's access log (lib/constructs/api.ts) describes it. */
export interface AccessRecord {
  requestId: string;
  ip: string | undefined;
  method: string | undefined;
  /** The route's path as in the route table (`/cache/{key}`), never the key itself; absent when no route matched. */
  resourcePath: string | undefined;
  status: number;
  responseLength: number;
  durationMs: number;
  protocol: string;
}

/**
 * JSON access log lines through the service's structured logger: a `sampleRate` share of requests, and every 5xx
 * (the requests someone will look for). At tens of thousands of requests a second, a line per request would cost
 * more CPU and log ingestion than the requests themselves.
 */
export class AccessLog {
  constructor(private readonly sampleRate: number) {}

  /** Whether this request's line is written; decided once, before the record is built. */
  wants(status: number): boolean {
    return status >= 500 || (this.sampleRate > 0 && Math.random() < this.sampleRate);
  }

  write(record: AccessRecord): void {
    logger.info('request', { access: record });
  }
}
