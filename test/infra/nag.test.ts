import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import * as nag from '../../lib/nag';
import { build, synth, type Synthesized } from './helpers';

const variants: [string, Synthesized][] = [
  ['dev', synth('dev')],
  ['prod', synth('prod')],
  ['dev, authMode=iam', synth('dev', { authMode: 'iam' })],
  ['prod, cluster mode off, redis', synth('prod', { clusterMode: false, shards: 1, engine: 'redis', engineVersion: '7.1' })],
  ['dev, front=service (internal)', synth('dev', { front: 'service' })],
  [
    'prod, front=service (internet-facing, HTTPS)',
    synth('prod', { front: 'service', loadBalancerScheme: 'internet-facing', certificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012' }),
  ],
];

/** Every cdk-nag acknowledgment recorded in the tree. */
function acknowledgments(root: IConstruct): { id: string; reason: string; path: string }[] {
  return root.node
    .findAll()
    .flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ id, reason, path: c.node.path }))),
    )
    .filter((a) => a.id.includes('AwsSolutions-'));
}

describe.each(variants)('cdk-nag AwsSolutions (%s)', (_name, s) => {
  test('zero unacknowledged errors or warnings', () => {
    const report = new AwsSolutionsChecks().validateScope(s.stack);
    const findings = report.violations.map((v) => `${v.severity} ${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('each acknowledgment names one rule and carries a specific reason', () => {
    const acks = acknowledgments(s.stack);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id).toMatch(/AwsSolutions-[A-Z]+\d+/);
      expect(a.reason.length).toBeGreaterThanOrEqual(60);
    }
    // Reasons are written per rule, not one blanket sentence.
    const reasonsByRule = new Map<string, Set<string>>();
    for (const a of acks) {
      const rule = a.id.replace(/^.*?(AwsSolutions-[A-Z]+\d+).*$/, '$1');
      reasonsByRule.set(rule, (reasonsByRule.get(rule) ?? new Set()).add(a.reason));
    }
    const allReasons = new Set(acks.map((a) => a.reason));
    expect(allReasons.size).toBeGreaterThanOrEqual(reasonsByRule.size);
  });

  test('no acknowledgment is stack-wide', () => {
    for (const a of acknowledgments(s.stack)) expect(a.path).not.toBe(s.stack.node.path);
  });
});

test('the checks do find the acknowledged rules when nothing is acknowledged (so they really run)', () => {
  const spy = jest.spyOn(nag, 'acknowledgeFindings').mockImplementation(() => undefined);
  try {
    const s = synth('dev');
    const rules = new AwsSolutionsChecks().validateScope(s.stack).violations.map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-AEC6', 'AwsSolutions-SMG4', 'AwsSolutions-IAM5[Resource::*]']));
  } finally {
    spy.mockRestore();
  }
});

test('an app with the AwsSolutions plugin synthesizes (validation runs during synth and passes)', () => {
  const s = build('dev');
  Validations.of(s.app).addPlugins(new AwsSolutionsChecks(s.app));
  expect(() => s.app.synth()).not.toThrow();
});

test('an unacknowledged finding fails the synth', () => {
  const spy = jest.spyOn(nag, 'acknowledgeFindings').mockImplementation(() => undefined);
  try {
    const s = build('dev');
    Validations.of(s.app).addPlugins(new AwsSolutionsChecks(s.app));
    expect(() => s.app.synth()).toThrow(/AwsSolutions-AEC6/);
  } finally {
    spy.mockRestore();
  }
});
