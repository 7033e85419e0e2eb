/**
 * The HTTP examples of a Markdown document, as a reader pastes them: every curl command of its `bash` blocks, in
 * order, with the answer the document shows for it. The conventions (docs/api.md, "Examples"):
 *
 * - a curl command (lines joined at a trailing `\`) is followed by `# <status>` and, on the same line, the body the
 *   document shows, as JSON; without such a line, the answer must be a 2xx (or a 304);
 * - a curl command that ends its block may instead be followed by a ```json block: the body of a 200;
 * - `<!-- not run: <reason> -->` on the line before a block leaves it out (it needs a deployed stack, a second
 *   server, a stream that does not end); other lines of a block (`export SKYCACHE=…`) are not run;
 * - in a shown body: `"…"` stands for any value, a `"…"` key for any further keys, a trailing `"…"` element for any
 *   further elements; timestamps match any timestamp; a field `ttl` may have counted down a few seconds; versions,
 *   message ids and other numbers of 13 digits or more are placeholders: the first answer that shows one binds it
 *   to the real number, which then replaces it in later commands and answers; so does a string shown as a name in
 *   angle brackets (`"<token>"`: a lease token), bound to the real string; `(any order)` after the body: its
 *   arrays may come in another order (set members).
 */
import { execFile } from 'node:child_process';

export interface DocExample {
  /** 1-based line of the command in the document. */
  line: number;
  command: string;
  expected?: { status: number; body?: string; anyOrder?: boolean };
}

export const ANY = '…';
const NOT_RUN = /<!--\s*not run:/;

/** The curl examples of a document, in order. */
export function docExamples(markdown: string): DocExample[] {
  const lines = markdown.split('\n');
  const examples: DocExample[] = [];
  let lastBashEnd = -1;
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```(\w*)\s*$/.exec(lines[i]);
    if (!fence) continue;
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end < 0) break;
    const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
    if (fence[1] === 'bash' && !NOT_RUN.test(before)) {
      const found = blockExamples(lines, i + 1, end);
      examples.push(...found);
      lastBashEnd = found.length ? end : -1;
    } else if (fence[1] === 'json' && lastBashEnd >= 0 && lines.slice(lastBashEnd + 1, i).every((l) => l.trim() === '')) {
      // A ```json block right after a block whose last curl shows no answer: that curl's answer (a 200).
      const last = examples[examples.length - 1];
      if (!last.expected) last.expected = { status: 200, body: lines.slice(i + 1, end).join('\n') };
    }
    i = end;
  }
  return examples;
}

function blockExamples(lines: string[], from: number, to: number): DocExample[] {
  const out: DocExample[] = [];
  for (let i = from; i < to; i++) {
    if (!/^\s*curl\b/.test(lines[i])) continue;
    const line = i + 1;
    let command = lines[i];
    while (command.endsWith('\\') && i + 1 < to) command += '\n' + lines[++i];
    const answer = /^#\s*(\d{3})\b\s*(.*)$/.exec(lines[i + 1] ?? '');
    const shown = answer?.[2].trim().replace(/\s*\(any order\)$/, '');
    const anyOrder = !!answer && shown !== answer[2].trim();
    out.push({ line, command, expected: answer ? { status: Number(answer[1]), body: shown || undefined, anyOrder } : undefined });
  }
  return out;
}

/**
 * Runs a command with bash as a reader would, against `baseUrl` (as $SKYCACHE, and in place of the
 * `http://127.0.0.1:3000` of `npm start`'s default port); curl also writes the status last.
 */
export function runCurl(command: string, baseUrl: string): Promise<{ status: number; body: string }> {
  const script = `curl() { command curl -sS "$@" -w '\\n%{http_code}'; }\n${command.replace(/http:\/\/(127\.0\.0\.1|localhost):3000/g, baseUrl)}`;
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', script], { env: { ...process.env, SKYCACHE: baseUrl }, timeout: 30_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${command}\nfailed: ${error.message}\n${stderr}`));
      const at = stdout.lastIndexOf('\n');
      let body = stdout.slice(0, Math.max(0, at));
      // -i: the status line and headers come first.
      if (body.startsWith('HTTP/')) body = body.slice(body.indexOf('\r\n\r\n') + 4);
      resolve({ status: Number(stdout.slice(at + 1)), body });
    });
  });
}

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const PLACEHOLDER_DIGITS = /\d{13,}/g;
/** A shown string that stands for whatever the answer holds there (a token), e.g. `<token>`. */
const PLACEHOLDER_NAME = /<[a-z][\w-]*>/g;
const WHOLE_PLACEHOLDER_NAME = /^<[a-z][\w-]*>$/;
const TTL_SLACK_SECONDS = 5;

/** Shown numbers (versions, ids) bound to the real ones, as answers reveal them. */
export class Bindings {
  private readonly byShown = new Map<string, string>();

  /** The text with every bound placeholder replaced by its real number. */
  apply(text: string): string {
    return text
      .replace(PLACEHOLDER_DIGITS, (shown) => this.byShown.get(shown) ?? shown)
      .replace(PLACEHOLDER_NAME, (shown) => this.byShown.get(shown) ?? shown);
  }

  /** Whether `actual` may stand where `shown` is; binds `shown` on first sight. */
  bind(shown: string, actual: string): boolean {
    const bound = this.byShown.get(shown);
    if (bound !== undefined) return bound === actual;
    this.byShown.set(shown, actual);
    return true;
  }

  /** A string shown with placeholders: matches `actual` when the rest is equal; binds what it reveals. */
  matchText(shown: string, actual: string): boolean {
    const parts = shown.split(PLACEHOLDER_DIGITS);
    const numbers = shown.match(PLACEHOLDER_DIGITS) ?? [];
    if (!numbers.length) return shown === actual;
    const escaped = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const pattern = new RegExp(`^${escaped.join('(\\d+)')}$`);
    const m = pattern.exec(actual);
    return !!m && numbers.every((n, i) => this.bind(n, m[i + 1]));
  }
}

/** The differences between a shown body and the real one, as `path: why` lines (none: they match). */
export function compareBodies(shown: unknown, actual: unknown, bindings: Bindings, path = '$', field = '', anyOrder = false): string[] {
  if (shown === ANY) return [];
  if (typeof shown === 'number' && typeof actual === 'number') {
    if (Number.isInteger(shown) && String(shown).length >= 13) return bindings.bind(String(shown), String(actual)) ? [] : [`${path}: shows ${shown}, which stood for another number than ${actual}`];
    if (field === 'ttl' && Math.abs(shown - actual) <= TTL_SLACK_SECONDS) return [];
    return shown === actual ? [] : [`${path}: shows ${shown}, is ${actual}`];
  }
  if (typeof shown === 'string' && typeof actual === 'string') {
    if (TIMESTAMP.test(shown) && TIMESTAMP.test(actual)) return [];
    if (WHOLE_PLACEHOLDER_NAME.test(shown)) return bindings.bind(shown, actual) ? [] : [`${path}: shows ${shown}, which stood for another text than ${JSON.stringify(actual)}`];
    return bindings.matchText(shown, actual) ? [] : [`${path}: shows ${JSON.stringify(shown)}, is ${JSON.stringify(actual)}`];
  }
  if (Array.isArray(shown) && Array.isArray(actual)) {
    const open = shown.length > 0 && shown[shown.length - 1] === ANY;
    const items = open ? shown.slice(0, -1) : shown;
    if (anyOrder) {
      const sorted = (list: unknown[]) => list.map((x) => JSON.stringify(x)).sort();
      return JSON.stringify(sorted(items)) === JSON.stringify(sorted(actual)) ? [] : [`${path}: shows ${JSON.stringify(items)} (any order), is ${JSON.stringify(actual)}`];
    }
    const problems: string[] = [];
    if (open ? actual.length < items.length : actual.length !== items.length) problems.push(`${path}: shows ${items.length}${open ? '+' : ''} items, has ${actual.length}`);
    items.forEach((item, i) => problems.push(...compareBodies(item, actual[i], bindings, `${path}[${i}]`, field, anyOrder)));
    return problems;
  }
  if (shown && actual && typeof shown === 'object' && typeof actual === 'object' && !Array.isArray(shown) && !Array.isArray(actual)) {
    const s = shown as Record<string, unknown>;
    const a = actual as Record<string, unknown>;
    const problems: string[] = [];
    for (const [k, v] of Object.entries(s)) {
      if (k === ANY) continue;
      if (!(k in a)) problems.push(`${path}.${k}: shown, but not in the answer`);
      else problems.push(...compareBodies(v, a[k], bindings, `${path}.${k}`, k, anyOrder));
    }
    if (!(ANY in s)) for (const k of Object.keys(a)) if (!(k in s)) problems.push(`${path}.${k}: in the answer (${JSON.stringify(a[k])}), not shown`);
    return problems;
  }
  return shown === actual ? [] : [`${path}: shows ${JSON.stringify(shown)}, is ${JSON.stringify(actual)}`];
}
