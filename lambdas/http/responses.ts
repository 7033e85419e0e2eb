import { CacheError } from '../core/errors';
import { json, type HttpResult } from './results';

/**
 * Lambda refuses response payloads over 6 MB (API Gateway then answers 502); stay clear of it with room for the
 * headers and the proxy envelope.
 */
export const MAX_RESPONSE_BYTES = 5 * 1024 * 1024;

/** A JSON reply that is measured first: a read too large to send is a clear 413 asking for a smaller part. */
export function boundedJson(status: number, body: unknown, smallerPart: string, limit = MAX_RESPONSE_BYTES): HttpResult {
  const text = JSON.stringify(body);
  const size = Buffer.byteLength(text, 'utf8');
  if (size > limit) {
    throw new CacheError('PAYLOAD_TOO_LARGE', `the answer would be ${size} bytes of JSON, over the ${limit}-byte response limit; ${smallerPart}`, {
      limit,
      size,
    });
  }
  return json(status, text);
}
