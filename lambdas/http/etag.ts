import { CacheError } from '../core/errors';

/** The strong ETag of an entry version: `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/** The entity tags of an If-Match / If-None-Match header: '*' or a list of `"…"` / `W/"…"`. */
export function parseEtags(header: string): '*' | { weak: boolean; tag: string }[] {
  const text = header.trim();
  if (text === '*') return '*';
  const tags: { weak: boolean; tag: string }[] = [];
  const pattern = /\s*(W\/)?"([^"]*)"\s*(,|$)/gy;
  let m: RegExpExecArray | null;
  while (pattern.lastIndex < text.length && (m = pattern.exec(text))) tags.push({ weak: Boolean(m[1]), tag: m[2] });
  if (pattern.lastIndex !== text.length || tags.length === 0) {
    throw new CacheError('BAD_REQUEST', `"${header}" is not a list of entity tags (write "*" or "\\"3\\"" with the quotes)`);
  }
  return tags;
}

/** If-None-Match uses the weak comparison: does any listed tag name this version? */
export function noneMatchHits(header: string, version: number): boolean {
  const tags = parseEtags(header);
  return tags === '*' || tags.some((t) => t.tag === String(version));
}

/**
 * If-Match as a write condition: '*' (the entry must exist), the one version it must be at, or null: a weak or
 * non-numeric tag, which can never match (strong comparison).
 */
export function ifMatchCondition(header: string): '*' | number | null {
  const tags = parseEtags(header);
  if (tags === '*') return '*';
  if (tags.length !== 1) throw new CacheError('BAD_REQUEST', 'If-Match must name exactly one ETag (or "*")');
  const [{ weak, tag }] = tags;
  return !weak && /^[1-9]\d{0,15}$/.test(tag) ? Number(tag) : null;
}

/** A version no entry is at: what a write or delete is conditioned on when If-Match can never match. */
export const NO_VERSION = -1;

/**
 * A header condition the domain refused (CONFLICT, NOT_FOUND or VERSION_CONFLICT with `details.currentVersion`) as
 * 412 PRECONDITION_FAILED, for POST and DELETE alike: `details` = the current version and the one If-Match named
 * (null for `*`, If-None-Match, or an ETag that never matches).
 */
export function preconditionFailed(refusal: CacheError, ifMatch: string | undefined, wanted: '*' | number | null | undefined): CacheError {
  const currentVersion = (refusal.details?.currentVersion as number | null | undefined) ?? null;
  const expectedVersion = typeof wanted === 'number' ? wanted : null;
  const message =
    wanted === null
      ? `If-Match ${ifMatch} never matches: it is not a strong ETag of a version (send the ETag as answered, e.g. "${currentVersion ?? 1}")`
      : refusal.message;
  return new CacheError('PRECONDITION_FAILED', `precondition failed: ${message}`, { currentVersion, expectedVersion });
}
