import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createHash, randomUUID } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { Agent, fetch as tlsFetch } from 'undici';
import { REPO_ROOT } from '../core/paths.ts';
import { FLEETDRILL_BIN, runFleetdrill as fleetdrill } from '../testing/run-cli.ts';
import {
  loadTestKeyPair,
  payloadRange,
  realClientsAvailability,
  TEST_KEYS_DIR,
  verifyArtifact,
} from '../ota/index.ts';
import { listeningPorts, processesWithEnv, runDirsIn, settle } from '../testing/leftovers.ts';

test('hil --json ends with the KPI line a gate reads, from real inference of the model', async () => {
  const result = await fleetdrill(['hil', '--min-queries', '50', '--min-duration-ms', '500', '--json']);
  expect(result.code, result.stderr).toBe(0);
  const lines = result.stdout.trim().split('\n');
  const kpis = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
  expect(Object.keys(kpis)).toEqual([
    'stage',
    'valid',
    'queries',
    'p50_ms',
    'p90_ms',
    'p99_ms',
    'throughput_qps',
  ]);
  expect(kpis).toMatchObject({ stage: 'local', valid: true });
  expect(kpis.queries as number).toBeGreaterThanOrEqual(50);
  expect(kpis.p50_ms as number).toBeGreaterThan(0.5);
  expect(kpis.p99_ms as number).toBeGreaterThanOrEqual(kpis.p90_ms as number);
  const verdict = JSON.parse(lines.at(-2)!) as { event: string; passed: boolean; checks: unknown[] };
  expect(verdict).toMatchObject({ event: 'verdict', passed: true });
  expect(verdict.checks.length).toBeGreaterThan(0);
});

test.describe('fleetdrill CLI: bad input', () => {
  for (const [args, message] of [
    [['up', '--robots', '0'], "--robots must be a whole number from 1 to 500, got '0'"],
    [['up', '--robots', 'abc'], "--robots must be a whole number from 1 to 500, got 'abc'"],
    [['up', '--rtf', 'fast'], "--rtf must be a positive number, got 'fast'"],
    [['up', '--seed', 'x1'], "--seed must be an integer from 0 to 4294967295, got 'x1'"],
    [['up', '--backend', 'k8s'], "--backend must be one of embedded, docker, got 'k8s'"],
    [['run', '--backend', 'k8s'], "--backend must be one of embedded, docker, got 'k8s'"],
    [['up', '--listen-address', 'lan'], '--listen-address must be an IPv4 address'],
    [['run', '--listen-address', '::'], '--listen-address must be an IPv4 address'],
    [
      ['up', '--docker-host', 'unix:///e2.sock'],
      '--docker-host needs --backend docker (got --backend embedded)',
    ],
    [
      ['up', '--backend', 'docker', '--docker-host', 'unix:///e1.sock', '--docker-host', 'http://e2:2375'],
      '--docker-host[1] "http://e2:2375" must be unix:///path/to/docker.sock, tcp://host:port or ssh://user@host[:port]',
    ],
    [['run', '--docker-host', 'tcp://e2'], '--docker-host[0] "tcp://e2" must be'],
    [['up', '--world', 'atlantis'], 'unknown world "atlantis"; available: corridor, empty, warehouse'],
    [['run', 'no-such-drill'], "scenario 'no-such-drill' is unknown; scenarios:"],
    [
      ['ota', 'build', '--variant', 'bricked', '--version', '1.1.0'],
      "--variant must be one of good, fails-self-test, crashes-on-boot, no-cloud, slow-boot, too-large, got 'bricked'",
    ],
    [['ota', 'build', '--version', '1.1'], "--version must be a semver version such as 1.1.0, got '1.1'"],
    [['ota', 'fuzz', '--cuts', '0'], "--cuts must be a whole number from 1 to 1000000, got '0'"],
    [['ota', 'fuzz', '--robots', 'many'], "--robots must be a whole number from 1 to 50, got 'many'"],
    [['ota', 'fuzz', '--seed', '-3'], "--seed must be an integer from 0 to 4294967295, got '-3'"],
    [
      ['ota', 'build', '--ota-client', 'opkg', '--version', '1.1.0'],
      "--ota-client must be one of fleetdrill, mender, rauc, swupdate, got 'opkg'",
    ],
    [
      ['up', '--ota-client', 'opkg'],
      "--ota-client must be one of fleetdrill, mender, rauc, swupdate, got 'opkg'",
    ],
    [
      [
        'ota',
        'build',
        '--ota-client',
        'mender',
        '--variant',
        'too-large',
        '--version',
        '1.1.0',
        '--slot-capacity',
        '100',
      ],
      "--variant too-large is for fleetdrill's own client",
    ],
  ] as const) {
    test(`${args.join(' ')} fails with a clear message`, async () => {
      const result = await fleetdrill([...args]);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain(message);
      expect(result.stderr.split('\n').filter(Boolean).length, 'one line, no stack trace').toBe(1);
    });
  }

  test('up --backend docker without a Docker engine says what to do', async () => {
    const result = await fleetdrill(['up', '--backend', 'docker', '--robots', '1'], {
      DOCKER_HOST: 'unix:///nonexistent/docker.sock',
    });
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('no Docker engine answers at unix:///nonexistent/docker.sock');
    expect(result.stderr).toContain('apt-get install -y docker.io');
    // The seed line, then the error: no stack trace.
    expect(result.stderr).not.toMatch(/^\s+at /m);
    expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^fleetdrill: backend docker: /);
  });

  test('up --docker-host naming an engine that does not answer names that engine', async () => {
    const result = await fleetdrill([
      'up',
      '--backend',
      'docker',
      '--robots',
      '2',
      '--docker-host',
      'unix:///nonexistent/e2.sock',
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('no Docker engine answers at unix:///nonexistent/e2.sock');
  });

  test('--robot-image without the docker backend is refused', async () => {
    const result = await fleetdrill(['up', '--robot-image', 'my/robot:1']);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('--robot-image needs --backend docker (got --backend embedded)');
  });

  test('hil with a missing model or an unknown stage names what is wrong', async () => {
    const missing = await fleetdrill(['hil', '--model', '/nonexistent/model.onnx', '--json']);
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr.trim()).toBe('fleetdrill: model /nonexistent/model.onnx: no such file');
    const stage = await fleetdrill(['hil', '--stage', 'ftp://jetson', '--json']);
    expect(stage.code, stage.stderr).toBe(2);
    expect(stage.stderr).toContain("stage 'ftp://jetson': must be 'local' or ssh://user@host[:port]");
  });

  test('an invalid world file names the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-cli-test-'));
    try {
      const world = join(dir, 'broken.json');
      const warehouse = JSON.parse(readFileSync(join(REPO_ROOT, 'reference/worlds/warehouse.json'), 'utf8'));
      warehouse.walls[1].to = [25, 'x'];
      writeFileSync(world, JSON.stringify(warehouse));
      const result = await fleetdrill(['up', '--world', world]);
      expect(result.code).toBe(2);
      expect(result.stderr.trim()).toBe('fleetdrill: broken.json: walls[1].to must be an array of 2 numbers');
      writeFileSync(world, '{ not json');
      const notJson = await fleetdrill(['up', '--world', world]);
      expect(notJson.code).toBe(2);
      expect(notJson.stderr).toMatch(/broken\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test.describe('fleetdrill up', () => {
  test('--json prints each robot and a ready line, and SIGINT tears everything down', async () => {
    test.setTimeout(60_000);
    const tmp = mkdtempSync(join(tmpdir(), 'fleetdrill-cli-up-'));
    const tag = randomUUID();
    const child = spawn(process.execPath, [FLEETDRILL_BIN, 'up', '--robots', '3', '--seed', '11', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, TMPDIR: tmp, FLEETDRILL_HYGIENE_TAG: tag },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Array<Record<string, unknown>> = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for await (const line of createInterface({ input: child.stdout })) {
        lines.push(JSON.parse(line) as Record<string, unknown>);
        if (lines.at(-1)?.event === 'ready') break;
      }
      const robots = lines.filter((line) => line.event === 'robot');
      expect(robots.map((robot) => robot.id)).toEqual(['r01', 'r02', 'r03']);
      for (const robot of robots) expect(robot.rosbridge).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
      const ready = lines.find((line) => line.event === 'ready');
      expect(ready?.robots).toBe(3);
      expect(typeof ready?.ms).toBe('number');
      // Progress while the robots came up, ending with every robot ready.
      const progress = lines.filter((line) => line.event === 'progress');
      expect(progress.at(-1)).toMatchObject({ robots: 3, ready: 3, booting: 0, failed: 0 });
      // The rosbridge URL a user gets is the robot's proxy: faults through the Toxiproxy API hit it.
      const toxiproxy = lines.find((line) => line.event === 'toxiproxy');
      expect(toxiproxy?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const proxies = (await (await fetch(`${toxiproxy?.url as string}/proxies`)).json()) as Record<
        string,
        { listen: string; upstream: string }
      >;
      for (const robot of robots) {
        const proxy = proxies[robot.proxy as string];
        expect(proxy?.listen).toBe(new URL(robot.rosbridge as string).host);
        expect(proxy?.upstream).toBe(new URL(robot.direct as string).host);
      }
      // The fleet cloud, reached by every robot's agent through the robot's own cloud proxy.
      const cloud = lines.find((line) => line.event === 'cloud');
      const cloudHttp = new URL(cloud?.http as string);
      const cloudMqtt = new URL(cloud?.mqtt as string);
      // Over mutual TLS, with the operator's files the line names.
      expect(cloudHttp.protocol).toBe('https:');
      const files = cloud?.tls as { ca: string; cert: string; key: string };
      const operator = new Agent({
        connect: {
          ca: readFileSync(files.ca),
          cert: readFileSync(files.cert),
          key: readFileSync(files.key),
          servername: 'fleet-cloud',
        },
      });
      const health = await tlsFetch(`${cloudHttp.origin}/health`, { dispatcher: operator });
      expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
      await operator.close();
      for (const robot of robots)
        expect(proxies[`${robot.id as string}-cloud`]?.upstream).toBe(cloudHttp.host);
      const ports = [
        ...robots.flatMap((robot) => [
          Number(new URL(robot.rosbridge as string).port),
          Number(new URL(robot.direct as string).port),
        ]),
        Number(cloudHttp.port),
        Number(cloudMqtt.port),
      ];
      expect(await listeningPorts(ports)).toEqual(ports);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', tag))).toEqual([]);
      expect(await listeningPorts(ports)).toEqual([]);
      expect(runDirsIn(tmp)).toEqual([]);
    } finally {
      child.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});

test.describe('fleetdrill ota build', () => {
  test('--json --out writes a verifiable artifact and describes it in one JSON object', async () => {
    test.setTimeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-cli-ota-'));
    try {
      const out = join(dir, 'nested', 'good.fdart');
      const result = await fleetdrill([
        'ota',
        'build',
        '--variant',
        'good',
        '--version',
        '1.1.0',
        '--out',
        out,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const lines = result.stdout.split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      const printed = JSON.parse(lines[0]!) as Record<string, unknown>;
      expect(printed).toMatchObject({ path: out, variant: 'good', version: '1.1.0' });
      const bytes = readFileSync(out);
      expect(printed.artifactSize).toBe(bytes.length);
      expect(printed.artifactSha256).toBe(createHash('sha256').update(bytes).digest('hex'));
      const { offset, length } = await payloadRange(out);
      expect(printed.payloadSize).toBe(length);
      expect(printed.payloadSha256).toBe(
        createHash('sha256')
          .update(bytes.subarray(offset, offset + length))
          .digest('hex'),
      );
      const verified = await verifyArtifact(out, {
        publicKeys: [loadTestKeyPair().publicKey],
        model: 'fd-amr-1',
      });
      expect(verified.manifest.version).toBe('1.1.0');
      expect(readdirSync(join(dir, 'nested')), 'no temp file left beside it').toEqual(['good.fdart']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test.describe('fleetdrill list', () => {
  test('lists the scenarios with their tags', async () => {
    const result = await fleetdrill(['list']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^navigation\s+@smoke @nightly @release @FLEET-003\s+navigation › /m);
    expect(result.stdout).toMatch(/^estop\s+/m);
  });
});

test.describe('fleetdrill ota build --ota-client', () => {
  const available = realClientsAvailability();
  test.skip(!available.ok, available.ok ? '' : available.reason);

  test('mender: a real Mender artifact, signed with the test-only key and no other', async () => {
    test.setTimeout(60_000);
    const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-cli-mender-'));
    try {
      const out = join(dir, 'good.mender');
      const result = await fleetdrill([
        'ota',
        'build',
        '--ota-client',
        'mender',
        '--version',
        '1.1.0',
        '--out',
        out,
        '--json',
      ]);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout.trim())).toMatchObject({
        path: out,
        client: 'mender',
        version: '1.1.0',
      });
      const read = await tool('mender-artifact', ['read', out]);
      expect(read.stdout).toContain('Name: robot-sim-1.1.0');
      expect(read.stdout).toContain('fd-amr-1');
      expect(
        (await tool('mender-artifact', ['validate', '-k', join(TEST_KEYS_DIR, 'mender-test.pub'), out])).code,
      ).toBe(0);
      expect(
        (await tool('mender-artifact', ['validate', '-k', join(TEST_KEYS_DIR, 'mender-untrusted.pub'), out]))
          .code,
      ).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('rauc: a bundle RAUC verifies against the test-only certificate and no other', async () => {
    test.setTimeout(60_000);
    const result = await fleetdrill(['ota', 'build', '--ota-client', 'rauc', '--version', '1.1.0', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { path } = JSON.parse(result.stdout.trim()) as { path: string };
    const trusted = await tool('rauc', [
      'info',
      `--keyring=${join(TEST_KEYS_DIR, 'rauc-test.cert.pem')}`,
      path,
    ]);
    expect(trusted.code, trusted.stderr).toBe(0);
    expect(trusted.stdout).toContain("Compatible: \t'fd-amr-1'");
    const untrusted = await tool('rauc', [
      'info',
      `--keyring=${join(TEST_KEYS_DIR, 'rauc-untrusted.cert.pem')}`,
      path,
    ]);
    expect(untrusted.code).not.toBe(0);
  });
});

/** Runs a tool; resolves with its exit code and output, never rejects for a non-zero exit. */
function tool(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
