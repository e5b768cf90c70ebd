import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import { loadQualificationFile, parseQualification } from './requirements.ts';

const GOOD = `suite:
  grep: "@release"
  backends: [embedded, docker]
sources:
  otaFuzz: { cuts: 16, client: fleetdrill }
  qosMatrix: true
  hil: true
requirements:
  - id: OTA-003
    title: A bad image is rolled back and reported
    area: ota
    severity: blocker
    evidence:
      - drills: { tag: "@OTA-003", scenario: ota-rollback }
  - id: HIL-001
    title: Perception p99 stays within budget
    area: hil
    severity: major
    evidence:
      - figure: hil/perception-cnn/p99_ms
        max: 20
        maxWorseningPct: 10
      - figure: qos/wifi-edge/cmd_vel/delivery
        min: 0.9
`;

/** GOOD with one line replaced, so each case breaks exactly one thing. */
function withLine(from: string, to: string): string {
  expect(GOOD).toContain(from);
  return GOOD.replace(from, to);
}

function refusal(yamlText: string): string {
  try {
    parseQualification(yamlText, 'qualification.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be refused');
}

test('a valid file reads into requirements with typed evidence', () => {
  const file = parseQualification(GOOD, 'qualification.yaml');
  expect(file.path).toBe('qualification.yaml');
  expect(file.suite).toEqual({ grep: '@release', backends: ['embedded', 'docker'] });
  expect(file.sources).toEqual({ otaFuzz: { cuts: 16, client: 'fleetdrill' }, qosMatrix: true, hil: true });
  expect(file.requirements.map((r) => [r.id, r.area, r.severity])).toEqual([
    ['OTA-003', 'ota', 'blocker'],
    ['HIL-001', 'hil', 'major'],
  ]);
  expect(file.requirements[0]!.evidence).toEqual([{ drills: { tag: '@OTA-003', scenario: 'ota-rollback' } }]);
  expect(file.requirements[1]!.evidence).toEqual([
    { figure: 'hil/perception-cnn/p99_ms', threshold: { max: 20, maxWorseningPct: 10 } },
    { figure: 'qos/wifi-edge/cmd_vel/delivery', threshold: { min: 0.9 } },
  ]);
});

test('sources may be left out', () => {
  const file = parseQualification(GOOD.replace(/sources:\n( {2}.*\n)+/, ''), 'q.yaml');
  expect(file.sources).toEqual({});
});

test('a wrong value names the path, the value and the line', () => {
  expect(refusal(withLine('maxWorseningPct: 10', 'maxWorseningPct: ten'))).toBe(
    'qualification.yaml: requirements[1].evidence[0].maxWorseningPct must be a number ≥ 0, got "ten" (line 22)',
  );
  expect(refusal(withLine('maxWorseningPct: 10', 'maxWorseningPct: -5'))).toBe(
    'qualification.yaml: requirements[1].evidence[0].maxWorseningPct must be a number ≥ 0, got -5 (line 22)',
  );
  expect(refusal(withLine('        max: 20', '        max: "20 ms"'))).toContain(
    'requirements[1].evidence[0].max must be a number, got "20 ms" (line 21)',
  );
  expect(refusal(withLine('severity: major', 'severity: minor'))).toContain(
    'requirements[1].severity must be one of "blocker", "major", got "minor"',
  );
  expect(refusal(withLine('area: ota', 'area: ui'))).toContain('requirements[0].area must be one of');
  expect(refusal(withLine('id: OTA-003', 'id: ota-3'))).toContain(
    'requirements[0].id must look like AREA-NNN, such as OTA-003, got "ota-3"',
  );
  expect(refusal(withLine('backends: [embedded, docker]', 'backends: [podman]'))).toContain(
    'suite.backends[0] must be one of "embedded", "docker"',
  );
  expect(refusal(withLine('backends: [embedded, docker]', 'backends: []'))).toContain(
    'suite.backends must name at least one backend',
  );
  expect(refusal(withLine('cuts: 16', 'cuts: 1.5'))).toContain('sources.otaFuzz.cuts must be an int');
  expect(refusal(withLine('        max: 20', '        figure2: x'))).toContain(
    'requirements[1].evidence[0] has unknown key "figure2"',
  );
  expect(refusal(withLine('figure: hil/perception-cnn/p99_ms', 'figure: p99_ms'))).toContain(
    'requirements[1].evidence[0].figure must be a figure id <source>/<name>',
  );
});

test('a missing field and an unknown key are errors', () => {
  expect(refusal(withLine('    title: A bad image is rolled back and reported\n', ''))).toBe(
    'qualification.yaml: requirements[0].title is required (line 9)',
  );
  expect(refusal(withLine('    severity: blocker', '    severity: blocker\n    owner: alice'))).toContain(
    'requirements[0] has unknown key "owner"',
  );
  expect(refusal(withLine('  qosMatrix: true', '  qosMatrix: true\n  dds: true'))).toContain(
    'sources has unknown key "dds"',
  );
});

test('duplicate ids are refused, naming both places', () => {
  expect(refusal(withLine('id: HIL-001', 'id: OTA-003'))).toBe(
    'qualification.yaml: requirements[1].id repeats OTA-003, already requirements[0].id (line 15)',
  );
});

test('an empty evidence list, an empty selection, a bare figure and min > max are refused', () => {
  expect(
    refusal(
      withLine('      - drills: { tag: "@OTA-003", scenario: ota-rollback }', '      []').replace(
        'evidence:\n      []',
        'evidence: []',
      ),
    ),
  ).toContain('requirements[0].evidence must list at least one piece of evidence');
  expect(refusal(withLine('drills: { tag: "@OTA-003", scenario: ota-rollback }', 'drills: {}'))).toContain(
    'requirements[0].evidence[0].drills must select drills by tag, title or scenario',
  );
  expect(
    refusal(withLine('drills: { tag: "@OTA-003", scenario: ota-rollback }', 'drills: { tags: "@x" }')),
  ).toContain('requirements[0].evidence[0].drills has unknown key "tags"');
  expect(
    refusal(withLine('drills: { tag: "@OTA-003", scenario: ota-rollback }', 'drills: { tag: "" }')),
  ).toContain('requirements[0].evidence[0].drills.tag must not be empty');
  expect(refusal(withLine('        max: 20\n        maxWorseningPct: 10\n', ''))).toBe(
    'qualification.yaml: requirements[1].evidence[0] sets no bound on hil/perception-cnn/p99_ms (max, min or maxWorseningPct) (line 20)',
  );
  expect(refusal(withLine('        min: 0.9', '        min: 0.9\n        max: 0.5'))).toContain(
    'requirements[1].evidence[1].min is 0.9, above max 0.5: no value could pass',
  );
  expect(
    refusal(withLine('      - figure: qos/wifi-edge/cmd_vel/delivery\n        min: 0.9', '      - bench: x')),
  ).toContain('requirements[1].evidence[1] must be a drill selection (drills: …) or a figure (figure: …)');
});

test('the file must have requirements, and be a mapping', () => {
  expect(refusal(GOOD.replace(/requirements:\n[\s\S]*$/, 'requirements: []\n'))).toContain(
    'requirements must list at least one requirement',
  );
  expect(refusal('')).toBe('qualification.yaml: (root) must be an object, got null');
  expect(refusal('- 1\n- 2\n')).toContain('(root) must be an object');
});

test('a YAML syntax error names the file and the line', () => {
  expect(refusal(withLine('  backends: [embedded, docker]', '  backends: [embedded, docker'))).toMatch(
    /^qualification\.yaml:4 is not valid YAML: /,
  );
  expect(refusal(withLine('  qosMatrix: true', '  qosMatrix: true\n  qosMatrix: false'))).toMatch(
    /^qualification\.yaml:7 is not valid YAML: Map keys must be unique/,
  );
});

test('loading reads the file, and a missing file names its path', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'fleetdrill-qualification-'));
  try {
    const path = join(dir, 'qualification.yaml');
    await writeFile(path, GOOD);
    expect((await loadQualificationFile(path)).requirements).toHaveLength(2);
    await expect(loadQualificationFile(join(dir, 'nope.yaml'))).rejects.toThrow(
      `${join(dir, 'nope.yaml')} cannot be read`,
    );
    await writeFile(path, withLine('maxWorseningPct: 10', 'maxWorseningPct: ten'));
    await expect(loadQualificationFile(path)).rejects.toThrow(
      `${path}: requirements[1].evidence[0].maxWorseningPct`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
