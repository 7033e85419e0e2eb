import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildConfig, type ConfigInput, type SkycacheConfig } from '../../lib/config';
import { SkycacheStack } from '../../lib/skycache-stack';

export interface Synthesized {
  app: App;
  stack: SkycacheStack;
  config: SkycacheConfig;
  template: Template;
}

/**
 * Builds the stack for a preset (plus overrides). Bundling is skipped unless asked for: the assertions read the
 * template, and bundling six functions per synth would make the suite slow (test/infra/synth.test.ts bundles).
 */
export function synth(preset: 'dev' | 'prod', overrides: ConfigInput = {}, options: { bundle?: boolean } = {}): Synthesized {
  const built = build(preset, overrides, options);
  return { ...built, template: Template.fromStack(built.stack) };
}

/** The app and stack, not yet synthesized (Template.fromStack synthesizes the app, once). */
export function build(preset: 'dev' | 'prod', overrides: ConfigInput = {}, options: { bundle?: boolean } = {}): Omit<Synthesized, 'template'> {
  const app = new App({ context: options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] } });
  const config = buildConfig(preset, overrides);
  const stack = new SkycacheStack(app, `skycache-${preset}`, { config });
  return { app, stack, config };
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

/** Resources of a type, by logical id. */
export function resourcesOf(template: Template, type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** The logical id of the one resource under a construct path prefix (e.g. `skycache-dev/StatsHandler/Role`). */
export function logicalIdAt(s: Synthesized, path: string): string {
  const node = s.stack.node.findAll().find((c) => c.node.path === path);
  if (!node) throw new Error(`no construct at ${path}`);
  const child = (node.node.defaultChild ?? node) as unknown as { logicalId?: string };
  return s.stack.resolve(child.logicalId) as string;
}

/** Every IAM action of a policy document's statements, flattened. */
export function actionsOf(statements: unknown): string[] {
  return (statements as { Action: string | string[] }[]).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
}
