import { hash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { SecretsManagerSource, type SecretSource } from '../core/redis';
import type { ApiKeySource } from './settings';

/** The header API Gateway reads API keys from: one client works against both fronts. */
export const API_KEY_HEADER = 'x-api-key';

export type KeyVerdict = 'ok' | 'missing' | 'wrong';

const SHA256_HEX = /^[0-9a-f]{64}$/;

/**
 * The accepted API keys, held only as SHA-256 digests. A presented key is hashed and compared with every digest in
 * constant time (no early exit), so neither the comparison nor the position of a match tells an attacker anything.
 */
export class ApiKeys {
  private constructor(private readonly digests: readonly Buffer[]) {}

  static fromDigests(hexDigests: readonly string[]): ApiKeys {
    return new ApiKeys(hexDigests.map((d) => Buffer.from(d, 'hex')));
  }

  get size(): number {
    return this.digests.length;
  }

  check(presented: string | undefined): KeyVerdict {
    if (presented === undefined || presented === '') return 'missing';
    // One-shot hash: about half the CPU of createHash().update().digest(), on every request.
    const digest = hash('sha256', presented, 'buffer');
    let match = 0;
    for (const d of this.digests) match |= timingSafeEqual(digest, d) ? 1 : 0;
    return match ? 'ok' : 'wrong';
  }
}

/** Hex SHA-256 of a key: what the secret, the file and API_KEY_HASHES hold (`printf %s KEY | sha256sum`). */
export function keyDigest(key: string): string {
  return hash('sha256', key, 'hex');
}

function checkedDigests(digests: readonly unknown[], where: string): string[] {
  if (digests.length === 0) throw new Error(`${where} lists no API key hash`);
  return digests.map((d, i) => {
    const text = typeof d === 'string' ? d.trim().toLowerCase() : '';
    // Never echo the entry: it may be a key pasted by mistake instead of its hash.
    if (!SHA256_HEX.test(text)) throw new Error(`${where}: entry ${i + 1} is not a hex SHA-256 digest (64 hex digits)`);
    return text;
  });
}

/** Parses the secret's (and the file's) form: JSON `{"sha256": ["<64 hex digits>", …]}`. */
export function parseKeyHashes(text: string, where: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${where} is not JSON; expected {"sha256": ["<hex SHA-256 of a key>", ...]}`);
  }
  const list = (parsed as { sha256?: unknown } | null)?.sha256;
  if (!Array.isArray(list)) throw new Error(`${where} has no "sha256" list; expected {"sha256": ["<hex SHA-256 of a key>", ...]}`);
  return checkedDigests(list, where);
}

/**
 * Reads the accepted key digests from where the settings say: a Secrets Manager secret (deployed; the SDK is only
 * loaded then), a file or API_KEY_HASHES (local). Undefined when no key is configured: requests need none.
 */
export async function loadApiKeys(source: ApiKeySource, secrets: SecretSource = new SecretsManagerSource()): Promise<ApiKeys | undefined> {
  switch (source.kind) {
    case 'none':
      return undefined;
    case 'inline':
      return ApiKeys.fromDigests(checkedDigests(source.text.split(','), 'API_KEY_HASHES'));
    case 'file':
      return ApiKeys.fromDigests(parseKeyHashes(await readFile(source.path, 'utf8'), `API_KEY_HASHES_FILE ${source.path}`));
    case 'secret':
      return ApiKeys.fromDigests(parseKeyHashes(await secrets.secretString(source.secretId), `secret ${source.secretId}`));
  }
}
