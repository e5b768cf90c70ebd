/**
 * `fleetdrill doctor` run for real, as a newcomer would, on a PATH that hides some tools: a temp
 * folder of symlinks to the tools a test keeps, so what is missing is truly not there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../core/paths.ts';
import { javaMajor, realClientsOutcome, satisfiesMinimum, which, type CheckResult } from './doctor.ts';
import { REAL_CLIENT_TOOLS } from '../ota/real/availability.ts';

const BIN = join(REPO_ROOT, 'bin/fleetdrill.js');

/** Every tool any check looks for on the PATH; a test keeps all but the ones it hides. */
const TOOLS = [
  'node',
  'java',
  'mosquitto_sub',
  'mosquitto_pub',
  'docker',
  'dockerd',
  'make',
  'g++',
  'python3',
  'idlc',
  'cc',
];

/**
 * Runs `fleetdrill doctor` with a PATH holding only symlinks to the machine's own copies of
 * `keep` (default {@link TOOLS}) less `hidden`. A kept tool the machine lacks fails the test: it could not tell the hidden one apart.
 */
async function doctorWithout(
  hidden: string[],
  args: string[] = [],
  extraEnv: NodeJS.ProcessEnv = {},
  keep: string[] = TOOLS,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const bin = mkdtempSync(join(tmpdir(), 'fleetdrill-doctor-path-'));
  try {
    for (const tool of keep.filter((name) => !hidden.includes(name))) {
      const real = which(tool, process.env);
      if (!real) throw new Error(`this test keeps ${tool} on the PATH, but the machine has no ${tool}`);
      symlinkSync(real, join(bin, tool));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: bin, ...extraEnv };
    // allure's launcher (and the doctor) would find java through JAVA_HOME despite the PATH.
    delete env.JAVA_HOME;
    return await new Promise((resolve) => {
      const child = spawn(process.execPath, [BIN, 'doctor', ...args], { cwd: REPO_ROOT, env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
}

function byName(stdout: string): Record<string, CheckResult> {
  const { checks } = JSON.parse(stdout) as { checks: CheckResult[] };
  return Object.fromEntries(checks.map((check) => [check.name, check]));
}

test('without java and mosquitto-clients: names both with their install commands, exits non-zero', async () => {
  const result = await doctorWithout(['java', 'mosquitto_sub', 'mosquitto_pub']);
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stdout).toContain('missing: java: apt-get install -y default-jre-headless');
  expect(result.stdout).toContain('warning: mosquitto-clients: apt-get install -y mosquitto-clients');
  expect(result.stdout).toContain('doctor: npm start cannot run: java missing');

  const json = await doctorWithout(['java', 'mosquitto_sub', 'mosquitto_pub'], ['--json']);
  expect(json.code).toBe(1);
  const checks = byName(json.stdout);
  expect(checks.java).toMatchObject({
    status: 'fail',
    blocking: true,
    fix: 'apt-get install -y default-jre-headless',
  });
  expect(checks['mosquitto-clients']).toMatchObject({
    status: 'warn',
    blocking: false,
    found: 'no mosquitto_sub, mosquitto_pub on PATH',
    fix: 'apt-get install -y mosquitto-clients',
  });
  expect(checks.node!.status).toBe('ok');
});

test('without docker: a warning with the install command, and exit 0', async () => {
  const result = await doctorWithout(['docker', 'dockerd'], ['--json']);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const checks = byName(result.stdout);
  expect(checks['docker engine']).toMatchObject({
    status: 'warn',
    found: 'no docker on PATH',
    fix: 'apt-get install -y docker.io',
  });
  expect(checks.java!.status, checks.java!.found).toBe('ok');
  expect(checks['mosquitto-clients']!.status).toBe('ok');
});

// One doctor run hides tools of two checks, and one keeps them all: each run costs seconds.
test('without idlc, rauc and mkenvimage: Cyclone DDS and the real OTA clients are warnings naming them with their install commands, exit 0', async () => {
  const realTools = Object.keys(REAL_CLIENT_TOOLS);
  // A tool this machine lacks cannot be kept: it must then be named too.
  const absent = realTools.filter((tool) => !which(tool, process.env));
  const keep = [...TOOLS, ...realTools.filter((tool) => !absent.includes(tool))];
  const hidden = ['idlc', 'rauc', 'mkenvimage'];
  const result = await doctorWithout(hidden, ['--json'], {}, keep);
  expect(result.code, result.stdout + result.stderr).toBe(0);
  const checks = byName(result.stdout);
  const cyclone = checks['cyclone dds']!;
  expect(cyclone).toMatchObject({
    status: 'warn',
    blocking: false,
    fix: 'apt-get install -y cyclonedds-dev cyclonedds-tools gcc',
  });
  expect(cyclone.found).toContain('idlc');
  const real = checks['real OTA clients']!;
  const named = realTools.filter((tool) => hidden.includes(tool) || absent.includes(tool));
  expect(real).toMatchObject({ status: 'warn', blocking: false });
  expect(real.found).toContain(`${named.join(', ')} on PATH`);
  expect(real.found).toContain('the real-client drills skip');
  expect(real.fix).toContain(
    `apt-get install -y ${[...new Set(named.map((tool) => REAL_CLIENT_TOOLS[tool]))].join(' ')}`,
  );

  // With them kept, the same checks pass, or name only what the machine itself lacks: they looked at the PATH they were given.
  const kept = byName((await doctorWithout([], ['--json'], {}, keep)).stdout);
  expect(kept['cyclone dds']!.status, kept['cyclone dds']!.found).toBe('ok');
  const keptReal = kept['real OTA clients']!;
  if (absent.length === 0 && process.getuid?.() === 0) {
    expect(keptReal.status, keptReal.found).toBe('ok');
  } else {
    expect(keptReal.status).toBe('warn');
    expect(keptReal.found).not.toContain('rauc');
    if (absent.length > 0) expect(keptReal.found).toContain(`${absent.join(', ')} on PATH`);
  }
});

test('as uid 65534 (nobody), the real-client row is not ok and names root and the uid; as root on the same PATH, root is not named', () => {
  const nobody = realClientsOutcome(process.env, 65534);
  expect(nobody.ok).toBe(false);
  expect(nobody.found).toContain('root (loop devices and mount namespaces need it; running as uid 65534)');
  expect(nobody.found).toContain('the real-client drills skip');
  expect(nobody.fix).toContain('run as root (sudo)');
  // Only the uid differs: whatever else this machine lacks is named both times.
  const root = realClientsOutcome(process.env, 0);
  expect(root.found).not.toContain('root (');
  expect(root.fix).not.toContain('sudo');
});

const NOBODY = 65534;

/**
 * Why `fleetdrill doctor` cannot be run here as uid 65534, or undefined when it can: setpriv
 * needs root, and the checkout must be readable by that uid (CI clones into a mode-700 temp dir).
 */
function whyNotAsNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'switching to uid 65534 needs root';
  const setpriv = which('setpriv', process.env);
  if (!setpriv) return 'no setpriv on PATH (util-linux)';
  const looked = spawnSync(
    setpriv,
    [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      process.execPath,
      '-e',
      `const fs = require('node:fs');
       for (const file of ${JSON.stringify([join(REPO_ROOT, 'package.json'), BIN])}) fs.accessSync(file, fs.constants.R_OK);
       fs.readdirSync(${JSON.stringify(join(REPO_ROOT, 'node_modules', 'tsx'))});`,
    ],
    { encoding: 'utf8', timeout: 10_000 },
  );
  if (looked.status === 0) return undefined;
  const said = looked.stderr.split('\n').find((line) => /Error|denied/.test(line)) ?? `exit ${looked.status}`;
  return `uid ${NOBODY} cannot read the checkout at ${REPO_ROOT} or run ${process.execPath} (${said.trim()})`;
}

test('run as uid 65534 for real, the doctor warns that the real OTA clients need root, naming the uid', async () => {
  const why = whyNotAsNobody();
  test.skip(why !== undefined, why ?? '');
  // tsx keeps its cache in TMPDIR: one the uid may write, removed after.
  const tmp = mkdtempSync(join(tmpdir(), 'fleetdrill-doctor-nobody-'));
  chownSync(tmp, NOBODY, NOBODY);
  try {
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(
        which('setpriv', process.env)!,
        [
          `--reuid=${NOBODY}`,
          `--regid=${NOBODY}`,
          '--clear-groups',
          process.execPath,
          BIN,
          'doctor',
          '--json',
        ],
        { cwd: REPO_ROOT, env: { ...process.env, TMPDIR: tmp, HOME: tmp } },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stdout, stderr }));
    });
    expect(result.stdout, `exit ${result.code}: ${result.stderr}`).toMatch(/^\{/);
    const checks = byName(result.stdout);
    expect(checks['real OTA clients']).toMatchObject({ status: 'warn', blocking: false });
    expect(checks['real OTA clients']!.found).toContain(
      `root (loop devices and mount namespaces need it; running as uid ${NOBODY})`,
    );
    expect(checks['real OTA clients']!.fix).toContain('run as root (sudo)');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('a docker client with no engine behind it is a warning that says how to start one', async () => {
  test.skip(!which('docker', process.env), 'no docker client on this PATH to point at a dead socket');
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-doctor-sock-'));
  try {
    const result = await doctorWithout([], ['--json'], {
      DOCKER_HOST: `unix://${join(dir, 'no-engine.sock')}`,
    });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const docker = byName(result.stdout)['docker engine']!;
    expect(docker.status).toBe('warn');
    expect(docker.found).toContain('no engine answers');
    expect(docker.fix).toContain('dockerd');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('version parsing: engines ranges and java -version lines', () => {
  expect(satisfiesMinimum('20.19.0', '>=20.19')).toBe(true);
  expect(satisfiesMinimum('22.1.0', '>=20.19')).toBe(true);
  expect(satisfiesMinimum('20.18.3', '>=20.19')).toBe(false);
  expect(satisfiesMinimum('18.20.0', '>=20.19')).toBe(false);
  expect(() => satisfiesMinimum('20.19.0', '^20.19.0')).toThrow("engines.node '^20.19.0'");
  expect(javaMajor('openjdk version "17.0.9" 2023-10-17')).toBe(17);
  expect(javaMajor('java version "1.8.0_392"')).toBe(8);
  expect(javaMajor('openjdk version "21" 2023-09-19')).toBe(21);
  expect(javaMajor('command not found')).toBeUndefined();
});
