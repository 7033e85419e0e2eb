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
 * If-Match as a write condition: '*' (the entry must exist) or the one version it must be at. A weak or
 * non-numeric tag can never match (strong comparison), so it yields -1, a version no entry has.
 */
export function ifMatchCondition(header: string): '*' | number {
  const tags = parseEtags(header);
  if (tags === '*') return '*';
  if (tags.length !== 1) throw new CacheError('BAD_REQUEST', 'If-Match must name exactly one ETag (or "*")');
  const [{ weak, tag }] = tags;
  return !weak && /^[1-9]\d{0,15}$/.test(tag) ? Number(tag) : -1;
}
