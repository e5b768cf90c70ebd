/**
 * The qualification as JUnit XML, so a CI system shows each requirement as a test case:
 * passed → a plain test case; failed → <failure>; not judged → <error>, because CI tools count
 * a skip as "not a problem" and a requirement nobody could judge must not read as one; waived →
 * <skipped> naming the waiver, as an accepted failure neither passes nor breaks the build.
 */
import type { Qualification, RequirementVerdict } from './types.ts';

/** Escapes text for XML content and attributes, dropping characters XML 1.0 cannot carry. */
export function escapeXmlText(text: string): string {
  return (
    text
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/** What did not pass in a requirement, one line per evidence. */
function problems(r: RequirementVerdict, status: 'failed' | 'not-judged'): string[] {
  return r.results.filter((e) => e.status === status).map((e) => `${e.evidence}: ${e.detail}`);
}

function body(r: RequirementVerdict): string {
  const all = r.results.map((e) => `${e.status.padEnd(10)} ${e.evidence}: ${e.detail}`).join('\n');
  switch (r.status) {
    case 'passed':
      return '';
    case 'failed': {
      const first = problems(r, 'failed')[0] ?? 'failed';
      return `<failure message="${escapeXmlText(first)}" type="${r.severity}">${escapeXmlText(all)}</failure>`;
    }
    case 'not-judged': {
      const first = problems(r, 'not-judged')[0] ?? 'no evidence could be judged';
      return `<error message="${escapeXmlText(`not judged: ${first}`)}" type="not-judged">${escapeXmlText(all)}</error>`;
    }
    case 'waived': {
      const w = r.waiver;
      const why = w ? `waived by ${w.owner} until ${w.expires}: ${w.reason}` : 'waived';
      return `<skipped message="${escapeXmlText(why)}"/>`;
    }
  }
}

/** The JUnit XML of a qualification: one testsuite, one testcase per requirement, in its order. */
export function renderQualificationJunit(q: Qualification): string {
  const count = (status: RequirementVerdict['status']) =>
    q.requirements.filter((r) => r.status === status).length;
  const cases = q.requirements.map((r) => {
    const inner = body(r);
    const open = `  <testcase classname="qualification.${escapeXmlText(r.area)}" name="${escapeXmlText(`${r.id} ${r.title}`)}"`;
    return inner ? `${open}>\n    ${inner}\n  </testcase>` : `${open}/>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="fleetdrill qualification" tests="${q.requirements.length}" failures="${count('failed')}" errors="${count('not-judged')}" skipped="${count('waived')}">`,
    `<testsuite name="${escapeXmlText(`qualification ${q.release}`)}" tests="${q.requirements.length}" failures="${count('failed')}" errors="${count('not-judged')}" skipped="${count('waived')}" timestamp="${escapeXmlText(q.judgedAt)}">`,
    '  <properties>',
    `    <property name="outcome" value="${escapeXmlText(q.outcome)}"/>`,
    `    <property name="summary" value="${escapeXmlText(q.summary)}"/>`,
    `    <property name="seed" value="${q.seed}"/>`,
    ...(q.baseline ? [`    <property name="baseline" value="${escapeXmlText(q.baseline)}"/>`] : []),
    '  </properties>',
    ...cases,
    '</testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
