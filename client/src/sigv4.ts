/**
 * AWS Signature Version 4 for a deployment with authMode=iam (API Gateway checks the caller's IAM identity):
 * `new SkycacheClient({ baseUrl, sign: sigV4Signer({ region, credentials }) })`. A separate entry point because it
 * uses node:crypto; any other signer (the AWS SDK's, say) fits the same `sign` hook. Checked against AWS's
 * published test vectors (test/client-unit.test.ts).
 */
import { createHash, createHmac } from 'node:crypto';
import type { SignableRequest, Signer } from './transport.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SigV4Options {
  region: string;
  /** 'execute-api' for API Gateway (the default). */
  service?: string;
  /** Fixed credentials, or a function answering current ones (e.g. from the AWS SDK's credential chain). */
  credentials: AwsCredentials | (() => Promise<AwsCredentials> | AwsCredentials);
  /** The signing time (default now): for tests. */
  now?: () => Date;
}

const sha256Hex = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding, as SigV4 requires (encodeURIComponent leaves !'()* alone). */
const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** Each path segment encoded once more (every service but S3 signs the path twice encoded). */
function canonicalPath(url: URL): string {
  return url.pathname.split('/').map(encode).join('/') || '/';
}

function canonicalQuery(url: URL): string {
  return [...url.searchParams]
    .map(([k, v]) => [encode(k), encode(v)])
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

/**
 * The headers that sign `request` at `date`: authorization, x-amz-date and (with temporary credentials)
 * x-amz-security-token. Signs host, content-type (when sent) and the x-amz-* headers.
 */
export function signV4(request: SignableRequest, credentials: AwsCredentials, region: string, service: string, date: Date): Record<string, string> {
  const amzDate = date.toISOString().replace(/[-:]|\.\d{3}/g, '');
  const day = amzDate.slice(0, 8);
  const added: Record<string, string> = { 'x-amz-date': amzDate };
  if (credentials.sessionToken) added['x-amz-security-token'] = credentials.sessionToken;
  const signed: Record<string, string> = { host: request.url.host };
  for (const [name, value] of Object.entries({ ...request.headers, ...added })) {
    const lower = name.toLowerCase();
    if (lower === 'content-type' || lower.startsWith('x-amz-')) signed[lower] = value.trim().replace(/\s+/g, ' ');
  }
  const names = Object.keys(signed).sort();
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(request.url),
    canonicalQuery(request.url),
    names.map((n) => `${n}:${signed[n]}\n`).join(''),
    names.join(';'),
    sha256Hex(request.body ?? ''),
  ].join('\n');
  const scope = `${day}/${region}/${service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, day), region), service), 'aws4_request');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    ...added,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}

/** A `sign` hook for SkycacheClient that signs every attempt with SigV4. */
export function sigV4Signer(options: SigV4Options): Signer {
  return async (request) => {
    const credentials = typeof options.credentials === 'function' ? await options.credentials() : options.credentials;
    return signV4(request, credentials, options.region, options.service ?? 'execute-api', options.now?.() ?? new Date());
  };
}
