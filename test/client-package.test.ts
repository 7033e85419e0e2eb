/**
 * The client package (client/) builds as its package.json says (`npm run build:client`: an ESM bundle per entry
 * point and the type declarations) and the bundle runs as plain ESM in Node with nothing but built-ins: no
 * runtime dependency beyond fetch (and node:crypto for the optional SigV4 entry point).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

describe('the client package', () => {
  const out = mkdtempSync(join(tmpdir(), 'skycache-client-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  test('builds to ESM bundles and declarations that import nothing but built-ins', async () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'client', 'package.json'), 'utf8'));
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies).toBeUndefined();
    const entries = ['client/src/index.ts', 'client/src/sigv4.ts'];
    await run(bin('esbuild'), [...entries, '--bundle', '--format=esm', '--platform=node', '--target=node20', `--outdir=${out}`, '--log-level=warning'], { cwd: ROOT });
    await run(bin('tsc'), ['-p', 'client/tsconfig.json', '--outDir', join(out, 'types')], { cwd: ROOT });
    // The paths package.json's exports name, relative to dist/.
    for (const target of [pkg.exports['.'], pkg.exports['./sigv4']]) {
      expect(existsSync(join(out, target.import.replace('./dist/', '')))).toBe(true);
      expect(existsSync(join(out, target.types.replace('./dist/', '')))).toBe(true);
    }
    const imports = (file: string) => [...readFileSync(join(out, file), 'utf8').matchAll(/^import .* from ["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(imports('index.js')).toEqual([]);
    expect(imports('sigv4.js')).toEqual(['node:crypto']);

    const probe = join(out, 'probe.mjs');
    writeFileSync(
      probe,
      `import { SkycacheClient, SkycacheError, ROUTES } from './index.js';
import { sigV4Signer } from './sigv4.js';
const client = new SkycacheClient({ baseUrl: 'http://127.0.0.1:9', sign: sigV4Signer({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }) });
const error = await client.get('k', { timeoutMs: 2000 }).catch((e) => e);
console.log(JSON.stringify({ routes: Object.keys(ROUTES).length, error: error instanceof SkycacheError ? error.code : String(error) }));
`,
    );
    const { stdout } = await run(process.execPath, [probe], { cwd: out });
    const result = JSON.parse(stdout);
    expect(result.routes).toBeGreaterThan(40);
    // Nothing listens on port 9: the bundle ran, signed, fetched and failed as the typed error.
    expect(result.error).toBe('NETWORK');
  }, 180_000);
});
