import * as fs from 'node:fs';
import * as path from 'node:path';
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { handlerModules } from '../../lambdas/routes';
import { build } from './helpers';

/**
 * The whole app as `cdk synth` builds it: functions bundled by the local esbuild, cdk-nag registered as a validation
 * plugin, offline (environment-agnostic stacks, no lookups).
 */
describe.each(['dev', 'prod'] as const)('full synth with bundling (%s)', (preset) => {
  const s = build(preset, {}, { bundle: true });
  Validations.of(s.app).addPlugins(new AwsSolutionsChecks(s.app));
  const assembly = s.app.synth();
  const artifact = assembly.getStackByName(s.stack.stackName);

  test('synthesizes with cdk-nag passing', () => {
    expect(Object.keys(artifact.template.Resources).length).toBeGreaterThan(100);
  });

  test('is environment-agnostic (no account or region baked in)', () => {
    expect(artifact.environment.account).toBe('unknown-account');
    expect(artifact.environment.region).toBe('unknown-region');
  });

  test('every function is bundled as minified ESM with a source map', () => {
    const bundles = fs
      .readdirSync(assembly.directory)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => path.join(assembly.directory, d))
      .filter((d) => fs.existsSync(path.join(d, 'index.mjs')));
    expect(bundles).toHaveLength(handlerModules().length + 1);
    for (const dir of bundles) {
      expect(fs.existsSync(path.join(dir, 'index.mjs.map'))).toBe(true);
      const code = fs.readFileSync(path.join(dir, 'index.mjs'), 'utf8');
      // Minified: long lines (multi-line string literals such as Lua scripts keep their own newlines, and a
      // tree-shaken bundle has less minified code around them; unminified code averages well under 100).
      expect(code.length / code.split('\n').length).toBeGreaterThan(300);
      expect(code).toMatch(/export\s*\{/);
      // NodejsFunction got the bundles' aliases (lib/bundling.ts aliasArgs): ioredis with the command table of what
      // skycache sends (the package's full table carries flags such as denyoom, which ioredis never asks about), and every bundle within the 250 KB target.
      expect(code).not.toContain('denyoom');
      expect(code.length).toBeLessThanOrEqual(250 * 1024);
    }
  });
});
