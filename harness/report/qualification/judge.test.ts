import { expect, test } from '@playwright/test';
import { SeededRandom } from '../../core/seed.ts';
import { judge, type JudgeInput } from './judge.ts';
import type {
  DrillOutcome,
  Evidence,
  Figure,
  QualificationFile,
  Requirement,
  RunEvidence,
  Severity,
  Waiver,
} from './types.ts';

const NOW = new Date('2026-11-15T12:00:00Z');

function requirement(id: string, evidence: Evidence[], severity: Severity = 'blocker'): Requirement {
  return { id, title: `${id} holds`, severity, area: id.split('-')[0]!.toLowerCase(), evidence };
}

function fileOf(...requirements: Requirement[]): QualificationFile {
  return {
    path: 'qualification.yaml',
    suite: { grep: '@release', backends: ['embedded'] },
    sources: {},
    requirements,
  };
}

function drill(
  title: string,
  status: DrillOutcome['status'],
  extra: Partial<DrillOutcome> = {},
): DrillOutcome {
  return {
    title,
    file: 'scenarios/ota-rollback.spec.ts',
    project: 'embedded',
    tags: ['@release'],
    status,
    ...extra,
  };
}

function figure(id: string, value: number, extra: Partial<Figure> = {}): Figure {
  return { id, value, unit: 'ms', better: 'lower', valid: true, ...extra };
}

function input(
  file: QualificationFile,
  evidence: Partial<RunEvidence>,
  extra: Partial<JudgeInput> = {},
): JudgeInput {
  return {
    file,
    evidence: { drills: [], figures: [], missing: [], ...evidence },
    waivers: [],
    sut: { release: '2.4.0', components: [] },
    seed: 7,
    now: NOW,
    ...extra,
  };
}

const P99 = 'hil/perception-cnn/p99_ms';
const p99Within10Pct: Evidence = { figure: P99, threshold: { maxWorseningPct: 10 } };
const baseline = (value: number, extra: Partial<Figure> = {}) => ({
  release: '2.3.0',
  figures: [figure(P99, value, extra)],
});

test('drills selected by tag, title and scenario together; all passing passes', () => {
  const file = fileOf(
    requirement('OTA-003', [{ drills: { tag: '@OTA-003', title: 'rollback', scenario: 'ota-rollback' } }]),
  );
  const drills = [
    drill('ota › bad image triggers rollback', 'passed', { tags: ['@OTA-003'] }),
    drill('ota › bad image triggers rollback', 'passed', { tags: ['@OTA-003'], project: 'docker' }),
    // Each of these misses one key, so would break the verdict if the selector ignored that key.
    drill('ota › rollback without the tag', 'failed', { tags: ['@OTA-0031'] }),
    drill('ota › power cut', 'failed', { tags: ['@OTA-003'] }),
    drill('ota › rollback elsewhere', 'failed', {
      tags: ['@OTA-003'],
      file: 'scenarios/ota-rollback-real.spec.ts',
    }),
  ];
  const q = judge(input(file, { drills }));
  expect(q.requirements[0]!.results).toEqual([
    {
      evidence: 'drills tag=@OTA-003 title~"rollback" scenario=ota-rollback',
      status: 'passed',
      detail: '2 of 2 drills that ran passed',
      drills: ['ota › bad image triggers rollback'],
    },
  ]);
  expect(q).toMatchObject({
    outcome: 'qualified',
    exitCode: 0,
    summary: '2.4.0 is qualified: 1 of 1 requirements passed',
  });
  expect(q.judgedAt).toBe(NOW.toISOString());
  expect(q.seed).toBe(7);
});

test('a failed drill fails its requirement, naming the drill and its error', () => {
  const file = fileOf(requirement('OTA-003', [{ drills: { tag: '@release' } }]));
  const q = judge(
    input(file, {
      drills: [
        drill('ota › a', 'passed'),
        drill('ota › b', 'failed', { message: 'slot B still active after 3 boots' }),
      ],
    }),
  );
  expect(q.requirements[0]).toMatchObject({ status: 'failed', regression: false });
  expect(q.requirements[0]!.results[0]!.detail).toBe(
    '1 of 2 drills failed: ota › b [embedded]: slot B still active after 3 boots',
  );
  expect(q).toMatchObject({ outcome: 'not-qualified', exitCode: 1 });
  expect(q.summary).toBe(
    '2.4.0 is not qualified: OTA-003 (blocker) failed: 1 of 2 drills failed: ota › b [embedded]: slot B still active after 3 boots',
  );
});

test('no matching drill, all skipped, or a known gap is not judged, never a pass', () => {
  const file = fileOf(requirement('OTA-003', [{ drills: { tag: '@OTA-003' } }]));
  const none = judge(input(file, { drills: [drill('ota › a', 'passed')] }));
  expect(none.requirements[0]!.results[0]).toMatchObject({
    status: 'not-judged',
    detail: 'no drill matched tag=@OTA-003 (of 1 in the run)',
  });
  expect(none).toMatchObject({ outcome: 'not-judged', exitCode: 2 });
  expect(none.summary).toBe(
    '2.4.0 could not be judged: OTA-003 (blocker) not judged: no drill matched tag=@OTA-003 (of 1 in the run)',
  );

  const tagged = { tags: ['@OTA-003'] };
  const skipped = judge(
    input(file, {
      drills: [
        drill('ota › a', 'skipped', { ...tagged, message: 'no docker engine' }),
        drill('ota › b', 'skipped', { ...tagged, message: 'no docker engine' }),
      ],
    }),
  );
  expect(skipped.requirements[0]!.results[0]).toMatchObject({
    status: 'not-judged',
    detail:
      'all 2 selected drills were skipped: ota › a [embedded]: no docker engine, ota › b [embedded]: no docker engine',
  });
  expect(skipped.exitCode).toBe(2);

  const gap = judge(
    input(file, {
      drills: [
        drill('ota › a', 'passed', tagged),
        drill('ota › b', 'known-gap', { ...tagged, message: 'issue 12' }),
      ],
    }),
  );
  expect(gap.requirements[0]!.results[0]).toMatchObject({
    status: 'not-judged',
    detail: '1 of 2 drills is a known gap: ota › b [embedded]: issue 12',
  });
  expect(gap.exitCode).toBe(2);

  // Some skipped beside passing ones: what ran passed, and the skips are said.
  const partly = judge(
    input(file, {
      drills: [
        drill('ota › a', 'passed', tagged),
        drill('ota › b', 'skipped', { ...tagged, message: 'no GPU' }),
      ],
    }),
  );
  expect(partly.requirements[0]!.results[0]).toMatchObject({
    status: 'passed',
    detail: '1 of 1 drills that ran passed; 1 skipped: ota › b [embedded]: no GPU',
  });
});

test('a 15 % worse p99 against a 10 % limit is a regression with both values shown', () => {
  const file = fileOf(requirement('HIL-001', [p99Within10Pct]));
  const q = judge(input(file, { figures: [figure(P99, 8.12)] }, { baseline: baseline(6.95) }));
  const verdict = q.requirements[0]!;
  expect(verdict).toMatchObject({ status: 'failed', regression: true });
  expect(verdict.results[0]).toMatchObject({
    evidence: P99,
    status: 'failed',
    detail: 'p99_ms 8.12 ms against 6.95 ms in 2.3.0: 16.8 % worse, limit 10 %',
    value: 8.12,
    baseline: 6.95,
    unit: 'ms',
  });
  expect(verdict.results[0]!.worseningPct).toBeCloseTo(16.83, 2);
  expect(q.baseline).toBe('2.3.0');
  expect(q.summary).toBe(
    '2.4.0 is not qualified: HIL-001 (blocker) failed: p99_ms 8.12 ms against 6.95 ms in 2.3.0: 16.8 % worse, limit 10 %',
  );

  const within = judge(input(file, { figures: [figure(P99, 7.5)] }, { baseline: baseline(6.95) }));
  expect(within.requirements[0]).toMatchObject({ status: 'passed', regression: false });
  expect(within.requirements[0]!.results[0]!.detail).toBe(
    'p99_ms 7.5 ms against 6.95 ms in 2.3.0: 7.9 % worse, limit 10 %',
  );
  // Exactly at the limit passes, whatever the float arithmetic makes of 1.1 − 1.
  expect(judge(input(file, { figures: [figure(P99, 1.1)] }, { baseline: baseline(1) })).exitCode).toBe(0);
});

test('better=higher: a drop is the worsening', () => {
  const id = 'qos/loss-10/cmd_vel/delivery';
  const file = fileOf(requirement('QOS-002', [{ figure: id, threshold: { maxWorseningPct: 5 } }]));
  const delivery = (value: number) => figure(id, value, { unit: '', better: 'higher' });
  const base = { release: '2.3.0', figures: [delivery(0.95)] };
  const drop = judge(input(file, { figures: [delivery(0.85)] }, { baseline: base }));
  expect(drop.requirements[0]).toMatchObject({ status: 'failed', regression: true });
  expect(drop.requirements[0]!.results[0]!.detail).toBe(
    'delivery 0.85 against 0.95 in 2.3.0: 10.5 % worse, limit 5 %',
  );
  const rise = judge(input(file, { figures: [delivery(0.99)] }, { baseline: base }));
  expect(rise.requirements[0]).toMatchObject({ status: 'passed', regression: false });
  expect(rise.requirements[0]!.results[0]!.detail).toBe(
    'delivery 0.99 against 0.95 in 2.3.0: 4.2 % better, limit 5 %',
  );
  expect(rise.requirements[0]!.results[0]!.worseningPct).toBeLessThan(0);
});

test('absolute bounds: max and min, each can fail', () => {
  const file = fileOf(requirement('HIL-001', [{ figure: P99, threshold: { max: 7, min: 1 } }]));
  const at = (value: number) =>
    judge(input(file, { figures: [figure(P99, value)] })).requirements[0]!.results[0]!;
  expect(at(6)).toMatchObject({ status: 'passed', detail: 'p99_ms 6 ms ≤ max 7 ms; p99_ms 6 ms ≥ min 1 ms' });
  expect(at(7.9)).toMatchObject({
    status: 'failed',
    detail: 'p99_ms 7.9 ms > max 7 ms; p99_ms 7.9 ms ≥ min 1 ms',
  });
  expect(at(0.5)).toMatchObject({
    status: 'failed',
    detail: 'p99_ms 0.5 ms < min 1 ms; p99_ms 0.5 ms ≤ max 7 ms',
  });
});

test('a missing or invalid figure is not judged, with the reason', () => {
  const file = fileOf(requirement('HIL-001', [{ figure: P99, threshold: { max: 20 } }]));
  const absent = judge(
    input(file, { missing: [{ source: 'hil', reason: 'no ONNX Runtime on this machine' }] }),
  );
  expect(absent.requirements[0]!.results[0]).toMatchObject({
    status: 'not-judged',
    detail: `no figure ${P99}; the source did not run: no ONNX Runtime on this machine`,
  });
  expect(absent).toMatchObject({ outcome: 'not-judged', exitCode: 2 });
  expect(absent.notes).toContain('evidence missing: hil: no ONNX Runtime on this machine');
  expect(judge(input(file, {})).requirements[0]!.results[0]!.detail).toBe(
    `no figure ${P99}; the run did not produce it (source hil)`,
  );

  const invalid = judge(
    input(file, { figures: [figure(P99, 3, { valid: false, note: 'GPU clocks not locked' })] }),
  );
  expect(invalid.requirements[0]!.results[0]).toMatchObject({
    status: 'not-judged',
    detail: 'p99_ms could not tell: GPU clocks not locked',
    value: 3,
  });
  expect(invalid.exitCode).toBe(2);

  const twice = judge(input(file, { figures: [figure(P99, 3), figure(P99, 30)] }));
  expect(twice.requirements[0]!.results[0]!.status).toBe('not-judged');
});

test('without a baseline asked for, the relative part does not apply; with one that is unusable, it is not judged; an absolute failure still fails', () => {
  const both: Evidence = { figure: P99, threshold: { max: 7, maxWorseningPct: 10 } };
  const file = fileOf(requirement('HIL-001', [both]));
  const noBaseline = judge(input(file, { figures: [figure(P99, 6)] }));
  expect(noBaseline.requirements[0]!.results[0]).toMatchObject({
    status: 'passed',
    detail:
      'p99_ms 6 ms ≤ max 7 ms; p99_ms not compared with an earlier release: no baseline was given (limit 10 % applies with --baseline)',
  });
  expect(noBaseline.exitCode).toBe(0);
  expect(noBaseline.baseline).toBeUndefined();

  const overMax = judge(input(file, { figures: [figure(P99, 9)] }));
  expect(overMax.requirements[0]).toMatchObject({ status: 'failed', regression: false });
  expect(overMax.exitCode).toBe(1);

  const cases: Array<[JudgeInput['baseline'], string]> = [
    [{ release: '2.3.0', figures: [] }, `no figure ${P99} in 2.3.0 to compare with`],
    [
      baseline(5, { valid: false, note: 'thermal throttling' }),
      'p99_ms in 2.3.0 could not tell: thermal throttling',
    ],
    [baseline(5000, { unit: 'us' }), 'p99_ms is in ms but 2.3.0 measured it in us'],
    [baseline(0), 'p99_ms was 0 in 2.3.0: a change in percent has no meaning'],
  ];
  for (const [base, detail] of cases) {
    const q = judge(input(file, { figures: [figure(P99, 6)] }, { baseline: base }));
    expect(q.requirements[0]!.results[0]!.status).toBe('not-judged');
    expect(q.requirements[0]!.results[0]!.detail).toContain(detail);
  }
});

test('an active waiver turns a failure into waived, and the release qualifies', () => {
  const file = fileOf(
    requirement('HIL-001', [p99Within10Pct]),
    requirement('OTA-003', [{ drills: { tag: '@release' } }]),
  );
  const waiver: Waiver = {
    requirement: 'HIL-001',
    reason: 'thermal fix in 2.4.1',
    owner: 'alice',
    expires: '2026-11-30',
  };
  const evidence = { figures: [figure(P99, 8.12)], drills: [drill('ota › a', 'passed')] };
  const q = judge(input(file, evidence, { baseline: baseline(6.95), waivers: [waiver] }));
  const hil = q.requirements.find((r) => r.id === 'HIL-001')!;
  expect(hil).toMatchObject({ status: 'waived', regression: true, waiver: { ...waiver, expired: false } });
  expect(q).toMatchObject({ outcome: 'qualified', exitCode: 0 });
  expect(q.summary).toBe(
    '2.4.0 is qualified: 1 of 2 requirements passed, 1 waived (HIL-001 until 2026-11-30)',
  );
});

test('an expired waiver is ignored, and a note says so', () => {
  const file = fileOf(requirement('HIL-001', [p99Within10Pct]));
  const waiver: Waiver = {
    requirement: 'HIL-001',
    reason: 'thermal fix',
    owner: 'alice',
    expires: '2026-11-30',
  };
  const q = judge(
    input(
      file,
      { figures: [figure(P99, 8.12)] },
      { baseline: baseline(6.95), waivers: [waiver], now: new Date('2026-12-01T00:00:00Z') },
    ),
  );
  expect(q.requirements[0]).toMatchObject({ status: 'failed', waiver: { ...waiver, expired: true } });
  expect(q.exitCode).toBe(1);
  expect(q.notes).toContain('waiver for HIL-001 by alice expired on 2026-11-30: ignored');
});

test('a waiver does not stand in for missing evidence', () => {
  const file = fileOf(requirement('HIL-001', [{ figure: P99, threshold: { max: 7 } }]));
  const waiver: Waiver = { requirement: 'HIL-001', reason: 'r', owner: 'bob', expires: '2026-11-30' };
  const q = judge(input(file, {}, { waivers: [waiver] }));
  expect(q.requirements[0]!.status).toBe('not-judged');
  expect(q.exitCode).toBe(2);
  expect(q.notes.some((n) => n.startsWith('waiver for HIL-001 by bob does not cover it'))).toBe(true);
});

test('major failures do not block, but the summary names them', () => {
  const file = fileOf(
    requirement('OTA-003', [{ drills: { tag: '@release' } }]),
    requirement('QOS-001', [{ figure: P99, threshold: { max: 5 } }], 'major'),
  );
  const q = judge(input(file, { drills: [drill('ota › a', 'passed')], figures: [figure(P99, 6)] }));
  expect(q).toMatchObject({ outcome: 'qualified', exitCode: 0 });
  expect(q.summary).toBe(
    '2.4.0 is qualified: 1 of 2 requirements passed; major failures, not blocking: QOS-001 (major) failed: p99_ms 6 ms > max 5 ms',
  );
});

test('a failed blocker outranks requirements that could not be judged', () => {
  const file = fileOf(
    requirement('OTA-003', [{ drills: { tag: '@release' } }]),
    requirement('TEL-001', [{ figure: 'telemetry/dead-zone/loss', threshold: { max: 0 } }]),
  );
  const q = judge(input(file, { drills: [drill('ota › a', 'failed', { message: 'bricked' })] }));
  expect(q).toMatchObject({ outcome: 'not-qualified', exitCode: 1 });
  expect(q.summary).toBe(
    '2.4.0 is not qualified: OTA-003 (blocker) failed: 1 of 1 drills failed: ota › a [embedded]: bricked; also not judged: TEL-001',
  );
});

test('requirements read regressions first, then failed, not judged, waived, passed, by id', () => {
  const passing: Evidence = { drills: { tag: '@release' } };
  const failing: Evidence = { drills: { tag: '@broken' } };
  const unknown: Evidence = { drills: { tag: '@nothing' } };
  const file = fileOf(
    requirement('A-002', [passing]),
    requirement('A-001', [passing]),
    requirement('B-002', [unknown]),
    requirement('B-001', [unknown]),
    requirement('C-002', [failing]),
    requirement('C-001', [failing]),
    requirement('D-001', [failing], 'major'),
    requirement('E-001', [p99Within10Pct], 'major'),
    requirement('F-001', [failing]),
  );
  const q = judge(
    input(
      file,
      {
        drills: [drill('ok', 'passed'), drill('broken', 'failed', { tags: ['@broken'] })],
        figures: [figure(P99, 9)],
      },
      {
        baseline: baseline(6),
        waivers: [{ requirement: 'F-001', reason: 'r', owner: 'o', expires: '2026-12-31' }],
      },
    ),
  );
  expect(q.requirements.map((r) => `${r.id}:${r.status}`)).toEqual([
    'E-001:failed',
    'C-001:failed',
    'C-002:failed',
    'D-001:failed',
    'B-001:not-judged',
    'B-002:not-judged',
    'F-001:waived',
    'A-001:passed',
    'A-002:passed',
  ]);
});

/**
 * Property: whatever the mix of evidence, the exit code agrees with what each requirement's
 * evidence was built to be. The expectation is derived from how the case was built, not from the
 * judge's own statuses, so a judge that mislabels a requirement fails here too.
 */
test('property: exit code 0 never hides a not-judged requirement or an unwaived failed blocker', () => {
  type Truth = 'pass' | 'fail' | 'unknown';
  const runs = 300;
  for (let run = 0; run < runs; run++) {
    const rng = new SeededRandom(run);
    const drills: DrillOutcome[] = [];
    const figures: Figure[] = [];
    const baseFigures: Figure[] = [];
    const waivers: Waiver[] = [];
    const requirements: Requirement[] = [];
    const truths: Array<{ severity: Severity; truth: Truth; waived: boolean }> = [];
    const count = rng.int(1, 6);
    for (let i = 0; i < count; i++) {
      const id = `R-${String(i).padStart(3, '0')}`;
      const severity: Severity = rng.pick(['blocker', 'major']);
      const tag = `@${id}`;
      const builds: Array<() => [Evidence, Truth]> = [
        () => {
          drills.push(drill(`${id} a`, 'passed', { tags: [tag] }));
          if (rng.int(0, 1)) drills.push(drill(`${id} b`, 'skipped', { tags: [tag] }));
          return [{ drills: { tag } }, 'pass'];
        },
        () => {
          drills.push(drill(`${id} a`, rng.pick(['passed', 'skipped']), { tags: [tag] }));
          drills.push(drill(`${id} b`, 'failed', { tags: [tag] }));
          return [{ drills: { tag } }, 'fail'];
        },
        () => [{ drills: { tag } }, 'unknown'],
        () => {
          drills.push(drill(`${id} a`, rng.pick(['skipped', 'known-gap']), { tags: [tag] }));
          return [{ drills: { tag } }, 'unknown'];
        },
        () => {
          const fid = `hil/${id}/p99_ms`;
          figures.push(figure(fid, rng.int(0, 100) / 10));
          return [{ figure: fid, threshold: { max: 10 } }, 'pass'];
        },
        () => {
          const fid = `hil/${id}/p99_ms`;
          figures.push(figure(fid, 10 + rng.int(1, 50) / 10));
          return [{ figure: fid, threshold: { max: 10, maxWorseningPct: 10 } }, 'fail'];
        },
        () => {
          const fid = `hil/${id}/p99_ms`;
          const base = rng.int(10, 100);
          baseFigures.push(figure(fid, base));
          figures.push(figure(fid, base * (1 + rng.int(11, 90) / 100)));
          return [{ figure: fid, threshold: { maxWorseningPct: 10 } }, 'fail'];
        },
        () => {
          const fid = `hil/${id}/p99_ms`;
          const base = rng.int(10, 100);
          baseFigures.push(figure(fid, base));
          figures.push(figure(fid, base * (1 + rng.int(-50, 9) / 100)));
          return [{ figure: fid, threshold: { maxWorseningPct: 10 } }, 'pass'];
        },
        () => {
          const fid = `hil/${id}/p99_ms`;
          figures.push(figure(fid, 1, rng.int(0, 1) ? { valid: false, note: 'busy' } : {}));
          // Valid but no baseline figure: the relative bound cannot be judged either way.
          return [{ figure: fid, threshold: { maxWorseningPct: 10 } }, 'unknown'];
        },
      ];
      const pieces = rng.int(1, 2);
      const evidence: Evidence[] = [];
      const pieceTruths: Truth[] = [];
      for (let p = 0; p < pieces; p++) {
        // A second piece of the same kind would reuse ids; keep one figure and one drill piece at most.
        const [piece, truth] = rng.pick(builds.slice(p === 0 ? 0 : 4, p === 0 ? 4 : builds.length))();
        evidence.push(piece);
        pieceTruths.push(truth);
      }
      const truth: Truth = pieceTruths.includes('fail')
        ? 'fail'
        : pieceTruths.includes('unknown')
          ? 'unknown'
          : 'pass';
      const waiverKind = rng.pick(['none', 'active', 'expired'] as const);
      if (waiverKind !== 'none') {
        waivers.push({
          requirement: id,
          reason: 'r',
          owner: 'o',
          expires: waiverKind === 'active' ? '2026-11-15' : '2026-11-14',
        });
      }
      requirements.push(requirement(id, evidence, severity));
      truths.push({ severity, truth, waived: waiverKind === 'active' });
    }
    const q = judge(
      input(
        fileOf(...requirements),
        { drills, figures },
        { baseline: { release: '2.3.0', figures: baseFigures }, waivers },
      ),
    );
    const blockerFailed = truths.some((t) => t.truth === 'fail' && t.severity === 'blocker' && !t.waived);
    const unknown = truths.some((t) => t.truth === 'unknown');
    const expected = blockerFailed ? 1 : unknown ? 2 : 0;
    // Checked by hand so the message is built only for a failing case: 300 cases stay fast.
    if (q.exitCode !== expected) {
      throw new Error(
        `case ${run}: exit ${q.exitCode}, expected ${expected}: ${JSON.stringify(truths)}\n${q.summary}`,
      );
    }
    if (q.exitCode === 0 && q.requirements.some((r) => r.status === 'not-judged')) {
      throw new Error(`case ${run}: exit 0 with a requirement not judged\n${q.summary}`);
    }
  }
});
