/** What each benchmark section hands back: tables, target verdicts and notes, printed and written to docs. */
export interface Table {
  title?: string;
  header: string[];
  rows: string[][];
}

export interface TargetVerdict {
  target: string;
  /** null when the figure could not be measured in this run. */
  met: boolean | null;
  measured: string;
}

export interface SectionResult {
  title: string;
  /** One paragraph on what was measured and how. */
  method: string;
  tables: Table[];
  targets: TargetVerdict[];
  notes: string[];
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function markdownTable(t: Table): string {
  const lines = [`| ${t.header.map(cell).join(' | ')} |`, `| ${t.header.map(() => '---').join(' | ')} |`];
  for (const r of t.rows) lines.push(`| ${r.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

/** A plain-text table for the terminal, columns padded. */
export function textTable(t: Table): string {
  const widths = t.header.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ');
  return [line(t.header), widths.map((w) => '-'.repeat(w)).join('  '), ...t.rows.map(line)].join('\n');
}

export function verdictText(v: TargetVerdict): string {
  return v.met === null ? 'NOT MEASURED' : v.met ? 'met' : 'MISSED';
}

export function targetsTable(targets: TargetVerdict[]): Table {
  return { header: ['target', 'measured', 'verdict'], rows: targets.map((v) => [v.target, v.measured, verdictText(v)]) };
}
