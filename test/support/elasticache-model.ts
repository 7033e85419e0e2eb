import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * What the ElastiCache API accepts in the requests skycache builds, checked against the SDK's own model
 * (node_modules/@aws-sdk/client-elasticache/dist-types/models/models_0.d.ts): the members of each request
 * interface, which of them are required, and the documented values of the members the code sets. A mocked client
 * answers whatever it is told; asserting every request against this table is what makes a wrong value fail a test.
 */
export interface RequestRules {
  /** The request interface in the SDK's model. */
  readonly shape: string;
  /** Members with a documented set of values: each value must appear as <code>value</code> in the member's doc. */
  readonly values?: Record<string, readonly string[]>;
  /** Members with a documented range: `Constraints: minimum N; maximum M` in the member's doc. */
  readonly ranges?: Record<string, readonly [number, number]>;
  /** Members the model documents as stored lowercase ("This value is stored as a lowercase string"). */
  readonly lowercase?: readonly string[];
}

export const REQUEST_RULES: Record<string, RequestRules> = {
  DescribeSnapshotsCommand: {
    shape: 'DescribeSnapshotsMessage',
    // "If set to system, the output shows snapshots that were automatically created by ElastiCache. If set to user
    // the output shows snapshots that were manually created." (`automated`/`manual` belong to the response.)
    values: { SnapshotSource: ['system', 'user'] },
    ranges: { MaxRecords: [20, 50] },
  },
  CopySnapshotCommand: {
    shape: 'CopySnapshotMessage',
    lowercase: ['TargetSnapshotName'],
  },
};

export interface ModelMember {
  readonly required: boolean;
  readonly doc: string;
}

const MODEL = join(__dirname, '../../node_modules/@aws-sdk/client-elasticache/dist-types/models/models_0.d.ts');
let modelText: string | undefined;

/** The members of a request interface as the SDK's model declares them, with their doc comments. */
export function modelShape(shape: string): Record<string, ModelMember> {
  modelText ??= readFileSync(MODEL, 'utf8');
  const start = modelText.indexOf(`export interface ${shape} {`);
  if (start < 0) throw new Error(`the SDK model has no interface ${shape}`);
  const body = modelText.slice(start, modelText.indexOf('\n}', start));
  const members: Record<string, ModelMember> = {};
  const member = /\/\*\*([\s\S]*?)\*\/\s*\n\s*(\w+)(\?)?:/g;
  for (const m of body.matchAll(member)) {
    members[m[2]] = { required: m[3] !== '?', doc: m[1].replace(/\s*\*\s*/g, ' ') };
  }
  return members;
}

/** Every problem of one request against the model and the rules (empty when the API would accept it). */
export function requestProblems(command: string, input: Record<string, unknown>): string[] {
  const rules = REQUEST_RULES[command];
  if (!rules) return [`${command}: no rules for this command in test/support/elasticache-model.ts`];
  const members = modelShape(rules.shape);
  const problems: string[] = [];
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (!(name in members)) problems.push(`${command}.${name}: not a member of ${rules.shape}`);
    const allowed = rules.values?.[name];
    if (allowed && !allowed.includes(String(value))) problems.push(`${command}.${name}: ${String(value)} is not one of ${allowed.join(', ')}`);
    const range = rules.ranges?.[name];
    if (range && !(typeof value === 'number' && value >= range[0] && value <= range[1])) {
      problems.push(`${command}.${name}: ${String(value)} is outside ${range[0]}..${range[1]}`);
    }
    if (rules.lowercase?.includes(name) && String(value) !== String(value).toLowerCase()) {
      problems.push(`${command}.${name}: ${String(value)} is stored lowercase by ElastiCache; send it lowercase`);
    }
  }
  for (const [name, m] of Object.entries(members)) {
    if (m.required && input[name] === undefined) problems.push(`${command}.${name}: required by ${rules.shape}`);
  }
  return problems;
}
