import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApiDocument } from '../lambdas/api-description';
import { routes } from '../lambdas/routes';

const docsDir = join(__dirname, '..', 'docs');
const allDocs = readdirSync(docsDir)
  .filter((f) => f.endsWith('.md'))
  .map((f) => readFileSync(join(docsDir, f), 'utf8'))
  .join('\n');

const sections = allDocs.split(/^(?=#{1,6} )/m).map((chunk) => {
  const newline = chunk.indexOf('\n');
  return { heading: chunk.slice(0, newline), body: chunk.slice(newline + 1) };
});

describe('the API description follows the route table', () => {
  test('docs/openapi.json is current (run `npm run docs` after changing routes or schemas)', () => {
    const committed = JSON.parse(readFileSync(join(docsDir, 'openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(openApiDocument())));
  });

  test.each(routes.map((r) => [r.id, r.method, r.path]))(
    'route %s (%s %s) has a section in docs/ with a curl example',
    (_id, method, path) => {
      // Convention: a Markdown heading naming "METHOD /path", whose section holds a curl call.
      const section = sections.find((s) => s.heading.includes(`${method} ${path}`));
      expect(section).toBeDefined();
      expect(section!.body).toMatch(/\bcurl\b/);
    },
  );
});
