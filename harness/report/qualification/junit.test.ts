import { expect, test } from '@playwright/test';
import { sampleQualification } from './fixture-qualification.ts';
import { escapeXmlText, renderQualificationJunit } from './junit.ts';

const testcase = (xml: string, id: string): string => {
  const start = xml.indexOf(`name="${id} `);
  expect(start, `testcase ${id}`).toBeGreaterThan(-1);
  const end = xml.indexOf('<testcase', start);
  return xml.slice(start, end === -1 ? undefined : end);
};

test('one testcase per requirement: failed is a failure, not judged an error, waived skipped', () => {
  const xml = renderQualificationJunit(sampleQualification());
  expect(xml.match(/<testcase /g)).toHaveLength(5);
  expect(xml).toContain('tests="5" failures="2" errors="1" skipped="1"');
  expect(testcase(xml, 'HIL-001')).toContain(
    '<failure message="hil/perception-cnn/p99_ms: p99 7.9 ms &gt; max 7.0 ms; +11.3 % against 2.3.0 &gt; 5 %" type="blocker">',
  );
  expect(testcase(xml, 'HIL-002')).toContain(
    '<error message="not judged: hil/jetson/p99_ms: no such figure in the run"',
  );
  expect(testcase(xml, 'TEL-001')).toContain(
    '<skipped message="waived by ana until 2026-03-01: known uploader bug &quot;#42&quot;"/>',
  );
  expect(testcase(xml, 'OTA-003')).toMatch(/^[^<]*\/>/);
  expect(xml).toContain('name="QOS-002 cmd_vel delivered on wifi-edge &lt;reliable &amp; keep_last&gt;"');
});

test('a requirement that turns from passed to failed or not judged is no longer a plain testcase', () => {
  const q = sampleQualification();
  q.requirements[1]!.status = 'failed';
  expect(testcase(renderQualificationJunit(q), 'OTA-003')).toContain('<failure');
  q.requirements[1]!.status = 'not-judged';
  expect(testcase(renderQualificationJunit(q), 'OTA-003')).toContain(
    '<error message="not judged: no evidence could be judged"',
  );
});

test('text XML cannot carry is dropped, the rest escaped', () => {
  expect(escapeXmlText('a\u0001b <c> & "d" \'e\'')).toBe('ab &lt;c&gt; &amp; &quot;d&quot; &apos;e&apos;');
});
