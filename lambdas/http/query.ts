import { CacheError } from '../core/errors';

/** Typed reading of query-string parameters; a bad one is a 400 VALIDATION_FAILED naming it. */
const invalid = (name: string, problem: string) => new CacheError('VALIDATION_FAILED', `${name}: ${problem}`);

export function integerParam(raw: string | undefined, name: string, fallback: number, min = Number.MIN_SAFE_INTEGER): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw invalid(name, 'must be a whole number');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw invalid(name, 'must be a whole number within ±(2^53-1)');
  if (n < min) throw invalid(name, `must be at least ${min}`);
  return n;
}

export function booleanParam(raw: string | undefined, name: string): boolean {
  if (raw === undefined || raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  throw invalid(name, 'must be true or false');
}

/** Parses with `parse` (null meaning invalid), or answers the fallback when the parameter is absent. */
export function parsedParam<T>(raw: string | undefined, name: string, fallback: T, parse: (text: string) => T | null, expected: string): T {
  if (raw === undefined || raw === '') return fallback;
  const value = parse(raw);
  if (value === null) throw invalid(name, `must be ${expected}`);
  return value;
}
