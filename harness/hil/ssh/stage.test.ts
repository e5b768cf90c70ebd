/**
 * The Jetson stage against a real OpenSSH server on loopback (Debian's /usr/sbin/sshd, throwaway
 * keys, this user), with the device test doubles of reference/hil/device-double/ standing in for
 * trtexec, tegrastats, nvpmodel and jetson_clocks; they replay the samples in reference/hil/, which are
 * hand-made in the tools' formats, not captured from a device. What is under test is the stage: transport,
 * orchestration, engine caching, cleanup and validity, not TensorRT.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { test as base, expect } from '@playwright/test';
import { REPO_ROOT } from '../../core/paths.ts';
import { knownSecrets } from '../../core/secrets.ts';
import { onProcessExit } from '../../core/cleanup.ts';
import { parseTegrastats } from '../parsers/index.ts';
import { parseSshTarget, SshStage, type SshStageOptions } from './index.ts';
import { HilError, type RunDiscipline } from '../types.ts';
import { freeLoopbackPort } from '../../core/ports.ts';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const SAMPLES = join(REPO_ROOT, 'reference/hil');
const DOUBLES = join(SAMPLES, 'device-double');
const SAMPLE_LOG = readFileSync(join(SAMPLES, 'trtexec-10.5-passed.log'), 'utf8');
const SAMPLE_TIMES = readFileSync(join(SAMPLES, 'export-times.json'), 'utf8');
const SAMPLE_LATENCIES = (JSON.parse(SAMPLE_TIMES) as Array<{ latencyMs: number }>).map(
  (query) => query.latencyMs,
);
const SAMPLE_WALLTIME_MS = Number(/Total Host Walltime: ([\d.]+) s/.exec(SAMPLE_LOG)![1]) * 1000;
/** Exactly what the hand-made 10.5 sample run meets: all its queries, over its walltime. */
const DISCIPLINE: RunDiscipline = {
  warmupQueries: 10,
  minQueries: SAMPLE_LATENCIES.length,
  minDurationMs: Math.floor(SAMPLE_WALLTIME_MS),
};

/** A throwaway sshd on 127.0.0.1, for this user, key auth only. */
interface StartedSshd {
  port: number;
  user: string;
  pid: number;
  dir: string;
  /** Key in authorized_keys, and one that is not. */
  clientKey: string;
  wrongKey: string;
  /** The host key: public line and `SHA256:` fingerprint. */
  hostPublicKey: string;
  hostFingerprint: string;
  /** FLEETDRILL_DEVICE_DOUBLE_DIR of every session. */
  doubleDir: string;
  stop(): Promise<void>;
}

async function keygen(path: string): Promise<void> {
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fleetdrill-test', '-f', path]);
}

/** Starts sshd and waits for "Server listening"; a failed start removes what it made and rethrows. */
async function startSshd(): Promise<StartedSshd> {
  const dir = await mkdtemp(join(os.tmpdir(), 'fleetdrill-sshd-'));
  let child: ChildProcess | undefined;
  const unregister = onProcessExit(() => {
    child?.kill('SIGKILL');
  });
  try {
    // sshd refuses to start without its privilege separation directory, which only the packaged
    // service creates; as root, make it (it is what the service would do).
    if (!existsSync('/run/sshd') && process.getuid?.() === 0) await mkdir('/run/sshd', { mode: 0o755 });
    const hostKey = join(dir, 'host_ed25519');
    const clientKey = join(dir, 'client_ed25519');
    const wrongKey = join(dir, 'wrong_ed25519');
    await Promise.all([keygen(hostKey), keygen(clientKey), keygen(wrongKey)]);
    await writeFile(join(dir, 'authorized_keys'), await readFile(`${clientKey}.pub`));
    const doubleDir = join(dir, 'double');
    await mkdir(doubleDir);
    const fingerprint = (await run('ssh-keygen', ['-l', '-E', 'sha256', '-f', `${hostKey}.pub`])).stdout;
    const user = os.userInfo().username;

    for (let attempt = 1; ; attempt += 1) {
      const port = await freeLoopbackPort();
      const config = join(dir, 'sshd_config');
      await writeFile(
        config,
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${hostKey}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          'StrictModes no',
          'UsePAM no',
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'Subsystem sftp internal-sftp',
          // node (for the doubles) first on the PATH, the doubles' state folder in every session.
          `SetEnv "PATH=${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin" "FLEETDRILL_DEVICE_DOUBLE_DIR=${doubleDir}"`,
          'LogLevel VERBOSE',
          '',
        ].join('\n'),
      );
      const sshd = spawn(SSHD, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
      child = sshd;
      let stderr = '';
      const listening = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 10_000);
        sshd.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          if (stderr.includes(`Server listening on 127.0.0.1 port ${port}`)) {
            clearTimeout(timer);
            resolve(true);
          }
        });
        sshd.once('exit', () => {
          clearTimeout(timer);
          resolve(false);
        });
      });
      if (listening) {
        const exited = new Promise<void>((resolve) => sshd.once('exit', () => resolve()));
        let stopped = false;
        return {
          port,
          user,
          pid: sshd.pid!,
          dir,
          clientKey,
          wrongKey,
          hostPublicKey: (await readFile(`${hostKey}.pub`, 'utf8')).trim(),
          hostFingerprint: fingerprint.split(' ')[1]!,
          doubleDir,
          stop: async () => {
            if (stopped) return;
            stopped = true;
            if (sshd.exitCode === null && sshd.signalCode === null) {
              sshd.kill('SIGTERM');
              const killer = setTimeout(() => sshd.kill('SIGKILL'), 5000);
              await exited;
              clearTimeout(killer);
            }
            unregister();
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      sshd.kill('SIGKILL');
      if (!stderr.includes('Address already in use') || attempt === 3) {
        throw new Error(`sshd did not start on 127.0.0.1:${port}: ${stderr.trim() || '(no output)'}`);
      }
    }
  } catch (error) {
    child?.kill('SIGKILL');
    unregister();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One test's view of the device: its own remote dir, double settings and invocation log. */
interface Device {
  target: string;
  remoteDir: string;
  model: string;
  options: SshStageOptions;
  set(setting: string, value: string): Promise<void>;
  invocations(tool: string): Promise<string[][]>;
  /** Command lines of double processes still running for this test. */
  leftovers(): Promise<string[]>;
}

const test = base.extend<{ device: Device }, { sshd: StartedSshd }>({
  sshd: [
    async ({}, use) => {
      const sshd = await startSshd();
      await use(sshd);
      await sshd.stop();
    },
    { scope: 'worker' },
  ],
  device: async ({ sshd }, use) => {
    const id = randomBytes(4).toString('hex');
    const remoteDir = join(sshd.dir, `remote-${id}`);
    const model = join(sshd.dir, `perception-${id}.onnx`);
    // The doubles never read the model; its bytes only have to be this test's own.
    await writeFile(model, `not really ONNX, test ${id}\n`);
    // Each test starts from the doubles' defaults and an empty invocation log.
    for (const name of await readdir(sshd.doubleDir)) await rm(join(sshd.doubleDir, name), { force: true });
    const device: Device = {
      target: `ssh://${sshd.user}@127.0.0.1:${sshd.port}`,
      remoteDir,
      model,
      options: {
        privateKey: sshd.clientKey,
        trtexecPath: join(DOUBLES, 'trtexec'),
        tegrastatsPath: join(DOUBLES, 'tegrastats'),
        nvpmodelPath: join(DOUBLES, 'nvpmodel'),
        jetsonClocksPath: join(DOUBLES, 'jetson_clocks'),
        tegrastatsIntervalMs: 100,
        remoteDir,
        connectTimeoutMs: 5000,
        commandTimeoutMs: 30_000,
      },
      set: (setting, value) => writeFile(join(sshd.doubleDir, setting), value),
      invocations: async (tool) => {
        const path = join(sshd.doubleDir, 'invocations.log');
        if (!existsSync(path)) return [];
        return (await readFile(path, 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((line) => JSON.parse(line) as { tool: string; args: string[] })
          .filter((call) => call.tool === tool)
          .map((call) => call.args);
      },
      leftovers: async () => {
        const { stdout } = await run('ps', ['-eo', 'args=']);
        // The doubles run as `node <double> ...`; the sh wrappers around them name the paths too.
        return stdout
          .split('\n')
          .filter((line) => /^\S*node /.test(line) && line.includes(DOUBLES) && line.includes(remoteDir));
      },
    };
    await use(device);
  },
});

/** Established TCP connections to 127.0.0.1:port, as the kernel lists them (both ends count). */
async function establishedTo(port: number): Promise<number> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (await readFile('/proc/net/tcp', 'utf8')).split('\n').slice(1);
  // Columns: sl, local address, remote address, state (01 = ESTABLISHED), ...
  return rows.filter((row) => {
    const [, local, remote, state] = row.trim().split(/\s+/);
    return state === '01' && (local?.endsWith(`:${hexPort}`) || remote?.endsWith(`:${hexPort}`));
  }).length;
}

/** sshd needs to be installed; CI installs it, so there a missing sshd fails instead. */
const noSshd = !existsSync(SSHD) && !process.env.CI;

test.describe('SshStage target and options', () => {
  test('parses ssh://user@host[:port] strictly', () => {
    expect(parseSshTarget('ssh://nvidia@orin.local')).toEqual({
      user: 'nvidia',
      host: 'orin.local',
      port: 22,
    });
    expect(parseSshTarget('ssh://root@[::1]:2222')).toEqual({ user: 'root', host: '::1', port: 2222 });
    expect(new SshStage('ssh://nvidia@10.0.0.7:22').name).toBe('ssh://nvidia@10.0.0.7');
    for (const bad of [
      'ssh://orin.local',
      'ssh://a:pw@host',
      'ssh://a@host:99999',
      'ssh://a@host/x',
      'http://a@host',
    ]) {
      expect(() => new SshStage(bad), bad).toThrow(HilError);
      expect(() => new SshStage(bad), bad).toThrow(bad);
    }
  });

  test('rejects flags the stage sets itself and unknown precisions', () => {
    expect(() => new SshStage('ssh://a@h', { extraFlags: ['--fp16'] })).toThrow(
      'ssh://a@h: options.extraFlags[0]: --fp16 is set by the stage',
    );
    expect(() => new SshStage('ssh://a@h', { precision: 'fp8' as 'fp16' })).toThrow('precision must be');
  });

  test('a missing model is a HilError naming the path, before any connection', async () => {
    const stage = new SshStage('ssh://nobody@127.0.0.1:1');
    await expect(stage.start('/nonexistent/model.onnx')).rejects.toThrow(
      new HilError('model /nonexistent/model.onnx: no such file'),
    );
  });
});

test.describe('SshStage over a real sshd', () => {
  test.skip(noSshd, `${SSHD} is not installed (apt-get install openssh-server); CI runs these`);

  test("start and benchmark give a valid result with the sample log's numbers", async ({ device, sshd }) => {
    await using stage = await new SshStage(device.target, device.options).start(device.model);
    const result = await stage.benchmark(DISCIPLINE);

    expect(result.invalidReasons).toEqual([]);
    expect(result.valid).toBe(true);
    // p99 and friends from the sample export times, by trtexec's percentile definition.
    const sample = SAMPLE_LATENCIES;
    const sorted = [...sample].sort((a, b) => a - b);
    const at = (p: number) =>
      sorted[Math.max(sorted.length - 1 - Math.floor((1 - p / 100) * sorted.length), 0)];
    expect(result.queries).toBe(sample.length);
    expect(result.perQueryMs).toEqual(sample);
    expect(result.latencyMs.p99).toBe(at(99));
    expect(result.latencyMs.p90).toBe(at(90));
    expect(result.latencyMs.p50).toBe(at(50));
    expect(result.latencyMs.min).toBe(sorted[0]);
    // Throughput and duration as the sample log prints them.
    expect(result.throughputQps).toBe(Number(/Throughput: ([\d.]+) qps/.exec(SAMPLE_LOG)![1]));
    expect(result.durationMs).toBeCloseTo(SAMPLE_WALLTIME_MS, 6);
    expect(result.logs.trtexec).toBe(SAMPLE_LOG);
    expect(result.logs['export-times']).toBe(SAMPLE_TIMES);

    // tegrastats sampled every 100 ms during the 1 s the double runs.
    const firstLine = readFileSync(join(SAMPLES, 'tegrastats-jp6.log'), 'utf8').split('\n')[0]!;
    expect(result.device.length).toBeGreaterThanOrEqual(3);
    expect(result.device[0]).toEqual(parseTegrastats(firstLine)[0]);
    expect(result.device[0]!.ram).toEqual({ usedMb: 5218, totalMb: 15656 });
    expect(result.logs.tegrastats?.startsWith(firstLine)).toBe(true);
    expect(result.environment.tegrastats).toBe(`${result.device.length} samples every 100 ms`);

    expect(result.clocks.powerMode).toBe('MAXN');
    expect(result.clocks.clocksLocked).toBe(true);
    expect(result.clocks.details.cpu_governor).toBe('schedutil');

    const modelFile = '/proc/device-tree/model';
    expect(result.environment).toMatchObject({
      stage: device.target,
      tensorrt: '10.5.0',
      precision: 'fp16',
      engine_cached: 'false',
      host_key_fingerprint: sshd.hostFingerprint,
      device_model: existsSync(modelFile)
        ? readFileSync(modelFile, 'utf8').replace(/\0/g, '').trim()
        : 'unknown (no /proc/device-tree/model)',
    });
    expect(result.environment.host_key_check).toContain('not verified');

    // The discipline as trtexec flags, and the engine built once from the uploaded model.
    const [build, bench, ...more] = (await device.invocations('trtexec')).filter(
      (args) => !args.includes('--help'),
    );
    expect(more).toEqual([]);
    expect(build).toEqual([
      expect.stringMatching(new RegExp(`^--onnx=${device.remoteDir}/models/[0-9a-f]{64}\\.onnx$`)),
      expect.stringMatching(new RegExp(`^--saveEngine=${device.remoteDir}/engines/.*\\.plan\\.partial-`)),
      '--fp16',
    ]);
    expect(bench).toEqual([
      expect.stringMatching(
        new RegExp(`^--loadEngine=${device.remoteDir}/engines/[0-9a-f]{64}-trt10\\.5\\.0-fp16-`),
      ),
      '--warmUp=200',
      `--iterations=${DISCIPLINE.minQueries}`,
      `--duration=${Math.ceil(DISCIPLINE.minDurationMs / 1000)}`,
      '--percentile=50,90,95,99',
      expect.stringMatching(/^--exportTimes=.*\/times\.json$/),
    ]);
    expect(await device.invocations('tegrastats')).toEqual([
      ['--interval', '100', '--logfile', expect.stringMatching(/\/tegrastats\.log$/)],
    ]);

    await stage.stop();
    expect(await device.leftovers()).toEqual([]);
    expect(await readdir(join(device.remoteDir, 'runs'))).toEqual([]);
  });

  test('a second start reuses the engine and the uploaded model', async ({ device }) => {
    await (await new SshStage(device.target, device.options).start(device.model)).stop();
    const models = await readdir(join(device.remoteDir, 'models'));

    await using second = await new SshStage(device.target, device.options).start(device.model);
    const result = await second.benchmark(DISCIPLINE);
    expect(result.valid).toBe(true);
    expect(result.environment.engine_cached).toBe('true');
    expect(result.logs['trtexec-build']).toBeUndefined();
    const builds = (await device.invocations('trtexec')).filter((args) =>
      args.some((a) => a.startsWith('--saveEngine')),
    );
    expect(builds).toHaveLength(1);
    expect(await readdir(join(device.remoteDir, 'models'))).toEqual(models);
    expect(await readdir(join(device.remoteDir, 'engines'))).toHaveLength(1);

    // Another precision is another engine.
    const fp32 = new SshStage(device.target, { ...device.options, precision: 'fp32' });
    await (await fp32.start(device.model)).stop();
    expect(await readdir(join(device.remoteDir, 'engines'))).toHaveLength(2);
    const last = (await device.invocations('trtexec')).at(-1)!;
    expect(last.some((arg) => arg.startsWith('--saveEngine'))).toBe(true);
    expect(last).not.toContain('--fp32');
  });

  test('a wrong key is an authentication error naming the key', async ({ device, sshd }) => {
    const stage = new SshStage(device.target, { ...device.options, privateKey: sshd.wrongKey });
    await expect(stage.start(device.model)).rejects.toThrow(
      `${device.target}: authentication failed (key ${sshd.wrongKey})`,
    );
    // The key it read is known by value, so a report that quoted it would show a marker instead.
    const keyText = (await readFile(sshd.wrongKey, 'utf8')).trim();
    expect(knownSecrets()).toContainEqual({ value: keyText, label: 'private key' });
  });

  test('a closed port is a clear error', async ({ device }) => {
    const port = await freeLoopbackPort();
    const target = `ssh://root@127.0.0.1:${port}`;
    const stage = new SshStage(target, device.options);
    await expect(stage.start(device.model)).rejects.toThrow(`cannot reach ${target}: ECONNREFUSED`);
  });

  test('the host key is checked against a fingerprint or known_hosts when given', async ({
    device,
    sshd,
  }) => {
    await using pinned = await new SshStage(device.target, {
      ...device.options,
      hostFingerprint: sshd.hostFingerprint,
    }).start(device.model);
    await pinned.stop();

    const other = 'SHA256:' + 'A'.repeat(43);
    const wrong = new SshStage(device.target, { ...device.options, hostFingerprint: other });
    await expect(wrong.start(device.model)).rejects.toThrow(
      `${device.target}: host key ${sshd.hostFingerprint} is not the expected ${other}`,
    );

    const knownHosts = join(sshd.dir, `known_hosts-${sshd.port}`);
    await writeFile(knownHosts, `# test\n[127.0.0.1]:${sshd.port} ${sshd.hostPublicKey}\n`);
    await using listed = await new SshStage(device.target, { ...device.options, knownHosts }).start(
      device.model,
    );
    const result = await listed.benchmark(DISCIPLINE);
    expect(result.environment.host_key_check).toBe(`listed in ${knownHosts}`);

    await writeFile(knownHosts, `127.0.0.1 ${sshd.hostPublicKey}\n`);
    const unlisted = new SshStage(device.target, { ...device.options, knownHosts });
    await expect(unlisted.start(device.model)).rejects.toThrow(`is not listed in ${knownHosts}`);
  });

  test('trtexec FAILED makes the run invalid, with its [E] line', async ({ device }) => {
    await using stage = await new SshStage(device.target, device.options).start(device.model);
    await device.set('trtexec-mode', 'failed');
    const result = await stage.benchmark(DISCIPLINE);
    expect(result.valid).toBe(false);
    const reasons = result.invalidReasons.join('\n');
    expect(reasons).toContain('trtexec exited with code 1');
    expect(reasons).toContain('trtexec FAILED: [TRT] IPluginRegistry::getCreator: Error Code 4');
    expect(reasons).toContain('Failed to parse onnx file');
    expect(reasons).toContain('trtexec wrote no export times');
    expect(result.queries).toBe(0);
    expect(result.latencyMs.p99).toBeNaN();
  });

  test('a failed engine build is a HilError with its [E] lines, and leaves nothing behind', async ({
    device,
    sshd,
  }) => {
    await device.set('trtexec-mode', 'failed');
    const stage = new SshStage(device.target, device.options);
    await expect(stage.start(device.model)).rejects.toThrow(
      /engine build failed \(exit 1, log failed, no engine written\): .*Cannot find plugin: DeformConv2d/,
    );
    expect(await readdir(join(device.remoteDir, 'engines'))).toEqual([]);
    expect(
      (await readdir(join(device.remoteDir, 'models'))).filter((name) => name.includes('.partial-')),
    ).toEqual([]);
    expect(await device.leftovers()).toEqual([]);
    await expect.poll(() => establishedTo(sshd.port), { timeout: 5000 }).toBe(0);
  });

  test('a start that fails after connecting closes its connection', async ({ device, sshd }) => {
    const trtexecPath = join(DOUBLES, 'no-such-trtexec');
    const stage = new SshStage(device.target, { ...device.options, trtexecPath });
    await expect(stage.start(device.model)).rejects.toThrow(
      `${device.target}: cannot tell the TensorRT version: '${trtexecPath} --help' exited 127`,
    );
    await expect.poll(() => establishedTo(sshd.port), { timeout: 5000 }).toBe(0);
    // The check itself sees a live connection: a started stage holds one until it stops.
    const started = await new SshStage(device.target, device.options).start(device.model);
    expect(await establishedTo(sshd.port)).toBeGreaterThan(0);
    await started.stop();
    await expect.poll(() => establishedTo(sshd.port), { timeout: 5000 }).toBe(0);
  });

  test('a truncated log is invalid even when trtexec exits 0', async ({ device }) => {
    await using stage = await new SshStage(device.target, device.options).start(device.model);
    await device.set('trtexec-mode', 'truncated');
    const result = await stage.benchmark(DISCIPLINE);
    expect(result.valid).toBe(false);
    expect(result.invalidReasons).toContain(
      'trtexec incomplete: the log ends before &&&& PASSED/FAILED (truncated?)',
    );
    expect(result.invalidReasons.join('\n')).toContain('trtexec wrote no export times');
    expect(result.invalidReasons.join('\n')).not.toContain('exited with');
  });

  test('a run short of the discipline is invalid, naming the limits', async ({ device }) => {
    await using stage = await new SshStage(device.target, device.options).start(device.model);
    const result = await stage.benchmark({ warmupQueries: 0, minQueries: 1000, minDurationMs: 5000 });
    expect(result.valid).toBe(false);
    expect(result.invalidReasons).toEqual([
      `${SAMPLE_LATENCIES.length} queries measured, the discipline requires >= 1000`,
      `measured for ${Number(SAMPLE_WALLTIME_MS.toFixed(3))} ms, the discipline requires >= 5000 ms`,
    ]);
    const bench = (await device.invocations('trtexec')).at(-1)!;
    expect(bench).toEqual(expect.arrayContaining(['--warmUp=0', '--iterations=1000', '--duration=5']));
  });

  test('device tools that fail are said, and do not void the run', async ({ device }) => {
    await device.set('nvpmodel-mode', 'fail');
    await device.set('jetson_clocks-mode', 'fail');
    const tegrastatsPath = join(DOUBLES, 'no-such-tegrastats');
    await using stage = await new SshStage(device.target, { ...device.options, tegrastatsPath }).start(
      device.model,
    );
    const result = await stage.benchmark(DISCIPLINE);
    expect(result.valid).toBe(true);
    expect(result.clocks.powerMode).toBeUndefined();
    expect(result.clocks.clocksLocked).toBeUndefined();
    expect(result.clocks.details.nvpmodel).toMatch(/^unavailable, exit 1: NVPM ERROR/);
    expect(result.clocks.details.jetson_clocks).toMatch(/^unavailable, exit 1: .*permission denied/);
    expect(result.device).toEqual([]);
    expect(result.environment.tegrastats).toMatch(
      /^no log, tegrastats ended by itself: exit 127 \(not found\)/,
    );

    await device.set('jetson_clocks-mode', 'unlocked');
    expect((await stage.benchmark(DISCIPLINE)).clocks.clocksLocked).toBe(false);
  });

  test('stop during a run stops trtexec and tegrastats on the device, and is idempotent', async ({
    device,
  }) => {
    const stage = await new SshStage(device.target, device.options).start(device.model);
    await device.set('trtexec-run-ms', '30000');
    const running = stage.benchmark(DISCIPLINE).then(
      (result) => result.valid,
      (error: unknown) => error,
    );
    await expect.poll(async () => (await device.leftovers()).length, { timeout: 10_000 }).toBe(2);
    await stage.stop();
    await stage.stop();
    expect(await device.leftovers()).toEqual([]);
    expect(await running).not.toBe(true);
    expect(await readdir(join(device.remoteDir, 'runs'))).toEqual([]);
    await expect(stage.benchmark(DISCIPLINE)).rejects.toThrow(
      new HilError(`${device.target}: the stage was stopped; start it again`),
    );
  });

  test('a stopped sshd leaves no process and no temp dir', async () => {
    const sshd = await startSshd();
    expect(() => process.kill(sshd.pid, 0)).not.toThrow();
    await sshd.stop();
    expect(() => process.kill(sshd.pid, 0)).toThrow();
    expect(existsSync(sshd.dir)).toBe(false);
  });
});
