import type Redis from 'ioredis';

/** An answer of the service as the HTTP tests read it: the JSON body parsed (undefined when empty). */
export interface JsonReply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/**
 * Sends one request to the server at `baseUrl()` (read per call: the server starts in beforeAll). A body is sent as
 * JSON (a string as it is, to send malformed or hand-made JSON), with its content type.
 */
export function jsonCaller(baseUrl: () => string) {
  return async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<JsonReply> {
    const res = await fetch(baseUrl() + path, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
}

/**
 * Everything stored except the hit/miss counters: each string's text, each other type's name and the length of its
 * DUMP, to prove a refused request changed nothing.
 */
export async function storedExceptHitCounts(client: Redis): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const k of (await client.keys('*')).sort()) {
    if (k.startsWith('_:hits:')) continue;
    const type = await client.type(k);
    out[k] = type === 'string' ? await client.get(k) : type + ':' + (await client.dump(k))?.length;
  }
  return out;
}
