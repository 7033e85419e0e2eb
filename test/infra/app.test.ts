import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * bin/skycache.ts as the CDK CLI runs it (context in CDK_CONTEXT_JSON, output in CDK_OUTDIR): the preset and context
 * overrides reach the stack, cdk-nag runs, an invalid configuration stops the synth with a clear message.
 * Bundling is skipped here; test/infra/synth.test.ts bundles.
 */
const root = path.resolve(__dirname, '..', '..');
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function runApp(context: Record<string, unknown>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'skycache-app-'));
  outdirs.push(outdir);
  const result = spawnSync(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'bin/skycache.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [], ...context }),
    },
  });
  return { ...result, outdir };
}

test.each([
  ['dev', 'skycache-dev', 2],
  ['prod', 'skycache-prod', 3],
])('preset %s synthesizes %s', (preset, stackName, subnets) => {
  const r = runApp({ preset });
  expect(r.stderr).not.toMatch(/ERROR|ValidationFailed/);
  expect(r.status).toBe(0);
  const template = JSON.parse(fs.readFileSync(path.join(r.outdir, `${stackName}.template.json`), 'utf8'));
  const types = Object.values(template.Resources as Record<string, { Type: string }>).map((x) => x.Type);
  expect(types.filter((t) => t === 'AWS::EC2::Subnet')).toHaveLength(subnets);
});

test('context overrides reach the stack', () => {
  const r = runApp({ preset: 'dev', evictionPolicy: 'volatile-lfu', authMode: 'iam', stackName: 'cache-test' });
  expect(r.status).toBe(0);
  const template = fs.readFileSync(path.join(r.outdir, 'cache-test.template.json'), 'utf8');
  expect(template).toContain('"maxmemory-policy": "volatile-lfu"');
  expect(template).toContain('"AuthorizationType": "AWS_IAM"');
});

test('an invalid configuration stops the synth and names the field', () => {
  const r = runApp({ preset: 'prod', replicasPerShard: '0' });
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('invalid skycache configuration');
  expect(r.stderr).toContain('multiAz: Multi-AZ needs at least one replica per shard');
});
