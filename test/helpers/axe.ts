import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';

/**
 * axe-core run inside the page. Its source is evaluated through the DevTools protocol rather than
 * added as a <script>: the settings page's CSP refuses inline scripts, and stays as strict as served.
 */
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeFinding {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

const lines = (kind: string, findings: AxeFinding[]): string[] =>
  findings.flatMap((f) =>
    f.nodes.map(
      (n) =>
        `${kind} ${f.id} (${f.impact}): ${f.help} at ${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ')}`,
    ),
  );

/**
 * What axe finds on the page as it is now, one readable line each: every violation, whatever its
 * impact, and every check it could not decide ("needs review") whose impact would be serious or
 * critical.
 */
export async function axeFindings(page: Page): Promise<string[]> {
  if (!(await page.evaluate<boolean>("typeof axe === 'object'"))) await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate<{ violations: AxeFinding[]; incomplete: AxeFinding[] }>(
    "axe.run(document, { resultTypes: ['violations', 'incomplete'] })",
  );
  const grave = (f: AxeFinding) => f.impact === 'serious' || f.impact === 'critical';
  return [
    ...lines('violation', result.violations),
    ...lines('needs review', result.incomplete.filter(grave)),
  ];
}
