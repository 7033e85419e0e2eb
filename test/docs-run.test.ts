/**
 * Every document runs top to bottom (issue 16): each doc's curl examples, pasted in order into a fresh `npm start`
 * (its own redis-server on a free port), answer the status and body the document shows. The conventions are in
 * test/support/doc-examples.ts; a doc without curl examples (docs/client.md: TypeScript) has nothing to run. A doc
 * whose examples need settings says so once: `<!-- run with: NAME=value … npm start -->`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Bindings, compareBodies, docExamples, runCurl, type DocExample } from './support/doc-examples';
import { killLeftovers, startServiceProcess, type ServiceProcess } from './support/service-process';

const ROOT = join(__dirname, '..');
const documents = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
].map((path) => {
  const text = readFileSync(join(ROOT, path), 'utf8');
  const settings = /<!--\s*run with:\s*((?:\w+=\S+\s+)*)npm start\s*-->/.exec(text)?.[1] ?? '';
  const env = Object.fromEntries(settings.trim().split(/\s+/).filter(Boolean).map((kv) => kv.split('=') as [string, string]));
  return { path, env, examples: docExamples(text) };
});
const runnable = documents.filter((d) => d.examples.length > 0);

jest.setTimeout(180_000);

let service: ServiceProcess | undefined;
afterEach(async () => {
  if (!service) return;
  service.launcher.kill('SIGTERM');
  await Promise.race([service.exited, new Promise((r) => setTimeout(r, 10_000))]);
  killLeftovers(service.launcher.pid, service.serverPid, service.redisPid);
  service = undefined;
});

/** What is wrong with one example's answer ('' when nothing). */
function problemsOf(example: DocExample, answer: { status: number; body: string }, bindings: Bindings): string[] {
  const { expected } = example;
  if (!expected) return answer.status < 300 || answer.status === 304 ? [] : [`answered ${answer.status} ${answer.body}, the doc shows no answer (so a success)`];
  const problems: string[] = [];
  if (answer.status !== expected.status) problems.push(`status: shows ${expected.status}, is ${answer.status}`);
  if (expected.body === undefined) {
    if (answer.body.trim() !== '' && answer.status !== 204) problems.push(`body: shows none, is ${answer.body}`);
    return problems;
  }
  let shown: unknown;
  try {
    shown = JSON.parse(bindings.apply(expected.body));
  } catch {
    return [...problems, `the shown body is not JSON: ${expected.body}`];
  }
  let actual: unknown;
  try {
    actual = JSON.parse(answer.body);
  } catch {
    return [...problems, `the answer is not JSON: ${answer.body}`];
  }
  return [...problems, ...compareBodies(shown, actual, bindings, '$', '', expected.anyOrder)];
}

describe('the conventions of shown answers', () => {
  test('placeholders bind to the real numbers, and then stand for them', () => {
    const b = new Bindings();
    expect(compareBodies({ version: 1795891674481581, ttl: 300, at: '2026-11-27T05:01:48.688Z' }, { version: 42000000000000, ttl: 298, at: '2030-01-01T00:00:00.000Z' }, b)).toEqual([]);
    expect(b.apply('If-Match: "1795891674481581"')).toBe('If-Match: "42000000000000"');
    expect(compareBodies({ message: 'at version 1795891674481581, not 1795891674481582' }, { message: 'at version 42000000000000, not 42000000000001' }, b)).toEqual([]);
    expect(compareBodies({ version: 1795891674481582 }, { version: 42000000000002 }, b)).toHaveLength(1);
    expect(compareBodies({ ttl: 300 }, { ttl: 280 }, b)).toHaveLength(1);
  });

  test('"…" stands for any value, any further keys or items; anything else must be shown', () => {
    const b = new Bindings();
    expect(compareBodies({ a: '…', '…': '…' }, { a: [1], b: 2 }, b)).toEqual([]);
    expect(compareBodies([1, '…'], [1, 2, 3], b)).toEqual([]);
    expect(compareBodies({ a: 1 }, { a: 1, tags: [] }, b)).toEqual(['$.tags: in the answer ([]), not shown']);
    expect(compareBodies({ members: ['a', 'b'] }, { members: ['b', 'a'] }, b, '$', '', true)).toEqual([]);
    expect(compareBodies({ members: ['a', 'b'] }, { members: ['b', 'a'] }, b)).toHaveLength(2);
  });

  test('a curl against the local server is in a block that runs, or one marked as not run', () => {
    const unmarked: string[] = [];
    for (const { path } of documents) {
      const lines = readFileSync(join(ROOT, path), 'utf8').split('\n');
      let fence: string | undefined;
      let opened = 0;
      lines.forEach((line, i) => {
        if (/^```/.test(line)) {
          if (fence === undefined) [fence, opened] = [line.slice(3).trim(), i];
          else fence = undefined;
          return;
        }
        const local = /\bcurl\b.*(\$SKYCACHE|127\.0\.0\.1:3000|localhost:3000)/.test(line);
        const marked = /<!--\s*not run:/.test(lines.slice(0, opened).reverse().find((l) => l.trim() !== '') ?? '');
        if (fence !== undefined && local && fence !== 'bash' && !marked) unmarked.push(`${path}:${i + 1}`);
      });
    }
    expect(unmarked).toEqual([]);
  });
});

test('the docs have runnable examples (README, api, entries-advanced, data-structures, pubsub)', () => {
  expect(runnable.map((d) => d.path)).toEqual(
    expect.arrayContaining(['README.md', 'docs/api.md', 'docs/entries-advanced.md', 'docs/data-structures.md', 'docs/pubsub.md']),
  );
});

test.each(runnable.map((d) => [d.path, d.examples, d.env] as const))('%s runs top to bottom on a fresh server', async (path, examples, env) => {
  service = await startServiceProcess({ env: { WORKERS: '1', ...env } });
  const bindings = new Bindings();
  const failures: string[] = [];
  for (const example of examples) {
    let problems: string[];
    try {
      problems = problemsOf(example, await runCurl(bindings.apply(example.command), service.url), bindings);
    } catch (e) {
      problems = [(e as Error).message];
    }
    if (problems.length) failures.push(`${path}:${example.line}: ${example.command.split('\n')[0]}\n    ${problems.join('\n    ')}`);
  }
  expect(failures).toEqual([]);
});
