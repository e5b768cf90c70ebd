/**
 * Test support: a hand-made qualification with every status, a regression, a waiver, an expired
 * waiver, notes, and strings that must be escaped, for the report's tests.
 */
import type { Qualification } from './types.ts';

export function sampleQualification(): Qualification {
  return {
    release: '2.4.0',
    baseline: '2.3.0',
    outcome: 'not-qualified',
    exitCode: 1,
    summary: '2.4.0 is not qualified: 1 blocker failed (HIL-001), 1 requirement could not be judged.',
    seed: 20261124,
    judgedAt: '2026-02-01T10:00:00.000Z',
    sut: {
      release: '2.4.0',
      components: [
        { name: 'robot', version: '2.4.0', digest: `sha256:${'ab'.repeat(32)}`, source: '--sut-version' },
        { name: 'hil-model', version: 'perception-cnn', source: 'reference/models/perception-cnn.onnx' },
      ],
    },
    notes: [
      'the waiver of QOS-002 expired on 2026-01-15: ignored',
      'source hil: no Jetson reachable <ssh://nvidia@jetson>',
    ],
    requirements: [
      {
        id: 'HIL-001',
        title: 'Perception p99 within budget',
        severity: 'blocker',
        area: 'hil',
        status: 'failed',
        regression: true,
        results: [
          {
            evidence: 'hil/perception-cnn/p99_ms',
            status: 'failed',
            detail: 'p99 7.9 ms > max 7.0 ms; +11.3 % against 2.3.0 > 5 %',
            value: 7.9,
            baseline: 7.1,
            worseningPct: 11.3,
            unit: 'ms',
          },
        ],
      },
      {
        id: 'OTA-003',
        title: 'Power cut at any point never bricks a robot',
        severity: 'blocker',
        area: 'ota',
        status: 'passed',
        regression: false,
        results: [
          {
            evidence: 'drills tag=@ota',
            status: 'passed',
            detail: '3 of 3 drills passed',
            drills: ['ota › power cut', 'ota › rollback', 'ota › tampered'],
          },
        ],
      },
      {
        id: 'QOS-002',
        title: 'cmd_vel delivered on wifi-edge <reliable & keep_last>',
        severity: 'major',
        area: 'qos',
        status: 'failed',
        regression: false,
        results: [
          {
            evidence: 'qos/wifi-edge/cmd_vel/delivery',
            status: 'failed',
            detail: 'delivery 0.91 < min 0.95',
            value: 0.91,
            unit: 'ratio',
          },
        ],
        waiver: {
          requirement: 'QOS-002',
          reason: 'AP firmware',
          owner: 'net-team',
          expires: '2026-01-15',
          expired: true,
        },
      },
      {
        id: 'TEL-001',
        title: 'Telemetry complete across dead zones',
        severity: 'major',
        area: 'telemetry',
        status: 'waived',
        regression: false,
        results: [{ evidence: 'drills tag=@telemetry', status: 'failed', detail: '1 of 2 drills failed' }],
        waiver: {
          requirement: 'TEL-001',
          reason: 'known uploader bug "#42"',
          owner: 'ana',
          expires: '2026-03-01',
          expired: false,
        },
      },
      {
        id: 'HIL-002',
        title: 'Jetson p99 within budget',
        severity: 'major',
        area: 'hil',
        status: 'not-judged',
        regression: false,
        results: [
          { evidence: 'hil/jetson/p99_ms', status: 'not-judged', detail: 'no such figure in the run' },
        ],
      },
    ],
  };
}
