import { expect, test } from '@playwright/test';
import { drillEvidence, FIGURE_CONTENT_TYPE, parseFigure } from './drill-evidence.ts';

const FIGURE = { id: 'ota/good/drill_s', value: 4.2, unit: 's', better: 'lower', valid: true };
const body = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64');

/** A Playwright JSON report of one file with the given tests. */
function report(
  tests: Array<{
    title: string;
    project?: string;
    status: string;
    expected?: string;
    figure?: unknown;
    tags?: string[];
    error?: string;
    annotations?: unknown[];
  }>,
) {
  return {
    suites: [
      {
        title: 'scenarios/ota.spec.ts',
        file: 'scenarios/ota.spec.ts',
        specs: tests.map((t, i) => ({
          title: t.title,
          file: 'scenarios/ota.spec.ts',
          line: i + 1,
          tags: t.tags ?? ['ota', 'OTA-001'],
          tests: [
            {
              projectName: t.project ?? 'embedded',
              expectedStatus: t.expected ?? 'passed',
              status: t.status,
              annotations: t.annotations ?? [],
              results: [
                {
                  status: t.status === 'expected' ? 'passed' : 'failed',
                  ...(t.error && { error: { message: `${t.error}\n  at somewhere` } }),
                  attachments:
                    t.figure === undefined
                      ? []
                      : [{ name: 'figure', contentType: FIGURE_CONTENT_TYPE, body: body(t.figure) }],
                },
              ],
            },
          ],
        })),
      },
    ],
  };
}

test('outcomes with @tags, the first error line, and figures from passed drills only', () => {
  const { drills, figures } = drillEvidence(
    report([
      { title: 'good', status: 'expected', figure: FIGURE },
      {
        title: 'bad',
        status: 'unexpected',
        error: 'expected 1.0.1',
        figure: { ...FIGURE, id: 'ota/bad/drill_s' },
      },
      { title: 'unit', project: 'unit', status: 'expected' },
      {
        title: 'gap',
        status: 'expected',
        expected: 'failed',
        annotations: [{ type: 'fail', description: 'known' }],
      },
      { title: 'skipped', status: 'skipped', annotations: [{ type: 'skip', description: 'needs docker' }] },
    ]),
  );
  expect(drills.map((d) => [d.title, d.status, d.message])).toEqual([
    ['good', 'passed', undefined],
    ['bad', 'failed', 'expected 1.0.1'],
    ['gap', 'known-gap', 'known'],
    ['skipped', 'skipped', 'needs docker'],
  ]);
  expect(drills[0]!.tags).toEqual(['@ota', '@OTA-001']);
  expect(figures).toEqual([FIGURE]);
});

test('a malformed figure is an error naming the drill and the field', () => {
  expect(() =>
    drillEvidence(report([{ title: 'good', status: 'expected', figure: { ...FIGURE, value: 'x' } }])),
  ).toThrow(/scenarios\/ota.spec.ts:1 \(good\) attachment figure: figure value "x" is not a finite number/);
  expect(() => parseFigure({ ...FIGURE, better: 'up' }, 'here')).toThrow(
    'here: figure better "up" is not lower or higher',
  );
  expect(() => parseFigure({ ...FIGURE, id: 'no-source' }, 'here')).toThrow('is not <source>/<name>');
  expect(() => parseFigure(null, 'here')).toThrow('here: figure not an object');
});
