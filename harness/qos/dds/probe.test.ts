import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, test } from '@playwright/test';
import { onProcessExit } from '../../core/cleanup.ts';
import { TimeoutError } from '../../core/errors.ts';
import { REPO_ROOT } from '../../core/paths.ts';
import type { TopicQos } from '../policy.ts';
import { ddsProbeAvailability, ensureDdsProbe } from './build.ts';
import { DdsProbeError, startDdsProbe, type DdsProbeReport, type StartedDdsProbe } from './probe.ts';

// Real probes on loopback. Each test has its own DDS domain (100-199 belong to these tests) and
// topic, so parallel workers and leftovers never cross-talk.
const RELIABLE: TopicQos = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 10 },
};
const topic = (name: string) => `fd_${name}_${process.pid}`;

async function stopAll(...probes: StartedDdsProbe[]): Promise<DdsProbeReport[]> {
  return Promise.all(probes.map((p) => p.stop()));
}

test.describe('ddsprobe over loopback', () => {
  test.beforeAll(async () => {
    const availability = await ddsProbeAvailability();
    test.skip(
      !availability.ok,
      availability.ok ? '' : `ddsprobe cannot be built: missing ${availability.missing}`,
    );
    await ensureDdsProbe();
  });

  test('reliable pub to reliable sub: every seq arrives, each with a positive latency', async () => {
    const t0 = performance.now();
    const common = { topic: topic('rel'), domain: 101, qos: RELIABLE };
    await using sub = await startDdsProbe({ ...common, role: 'sub', label: 'rel-sub' });
    await using pub = await startDdsProbe({
      ...common,
      role: 'pub',
      label: 'rel-pub',
      rateHz: 50,
      durationMs: 1_000,
      startAfterMatch: true,
    });
    await pub.waitFor('matched', 5_000, (e) => e.current > 0);
    test.info().annotations.push({
      type: 'loopback match ms',
      description: String(Math.round(performance.now() - t0)),
    });
    const pubReport = await pub.done;
    const published = pubReport.summary?.role === 'pub' ? pubReport.summary.published : 0;
    expect(published, 'rel-pub published nothing in 1 s at 50 Hz').toBeGreaterThan(20);
    await sub.waitFor('sample', 5_000, (s) => s.seq === published - 1);
    const [subReport] = await stopAll(sub);
    const seqs = subReport!.samples.map((s) => s.seq);
    expect(seqs).toEqual(Array.from({ length: published }, (_, i) => i));
    for (const s of subReport!.samples) expect(s.recv - s.sent, `seq ${s.seq} latency`).toBeGreaterThan(0);
    expect(subReport!.summary).toMatchObject({ role: 'sub', received: published });
    // The pub ended by its duration, the sub by SIGTERM: both printed a summary and exited 0.
    expect(pubReport.exitCode).toBe(0);
    expect(subReport!.exitCode).toBe(0);
  });

  for (const c of [
    {
      name: 'best_effort pub + reliable sub',
      policy: 'RELIABILITY',
      domain: 102,
      pub: { ...RELIABLE, reliability: 'best_effort' },
      sub: RELIABLE,
    },
    {
      name: 'volatile pub + transient_local sub',
      policy: 'DURABILITY',
      domain: 103,
      pub: RELIABLE,
      sub: { ...RELIABLE, durability: 'transient_local' },
    },
    {
      name: 'offered deadline 200 ms vs requested 50 ms',
      policy: 'DEADLINE',
      domain: 104,
      pub: { ...RELIABLE, deadlineMs: 200 },
      sub: { ...RELIABLE, deadlineMs: 50 },
    },
    {
      name: 'automatic liveliness pub + manual_by_topic sub',
      policy: 'LIVELINESS',
      domain: 105,
      pub: { ...RELIABLE, liveliness: { kind: 'automatic' } },
      sub: { ...RELIABLE, liveliness: { kind: 'manual_by_topic' } },
    },
  ] satisfies { name: string; policy: string; domain: number; pub: TopicQos; sub: TopicQos }[]) {
    test(`${c.name}: incompatible ${c.policy} within 5 s and no sample`, async () => {
      const t = topic(`inc${c.domain}`);
      await using sub = await startDdsProbe({
        role: 'sub',
        topic: t,
        domain: c.domain,
        qos: c.sub,
        label: `${c.policy}-sub`,
      });
      await using pub = await startDdsProbe({
        role: 'pub',
        topic: t,
        domain: c.domain,
        qos: c.pub,
        label: `${c.policy}-pub`,
        rateHz: 50,
      });
      const requested = await sub.waitFor('incompatible', 5_000);
      expect(requested).toMatchObject({ side: 'requested', policy: c.policy });
      expect(await pub.waitFor('incompatible', 5_000)).toMatchObject({ side: 'offered', policy: c.policy });
      // Give a wrongly matched pair time to deliver, then look.
      await new Promise((r) => setTimeout(r, 500));
      const [subReport, pubReport] = await stopAll(sub, pub);
      expect(subReport!.samples).toHaveLength(0);
      expect(subReport!.matched.every((m) => m.current === 0)).toBe(true);
      expect(pubReport!.summary?.role === 'pub' && pubReport!.summary.published).toBeGreaterThan(0);
    });
  }

  test('a 5 Hz pub under a 50 ms requested deadline: misses counted; at 20 Hz under 500 ms: none', async () => {
    const run = async (domain: number, rateHz: number, deadlineMs: number) => {
      const qos = { ...RELIABLE, deadlineMs };
      const t = topic(`dl${domain}`);
      await using sub = await startDdsProbe({ role: 'sub', topic: t, domain, qos, label: `dl${rateHz}-sub` });
      await using pub = await startDdsProbe({
        role: 'pub',
        topic: t,
        domain,
        qos,
        label: `dl${rateHz}-pub`,
        rateHz,
      });
      await sub.waitFor('sample', 5_000);
      await new Promise((r) => setTimeout(r, 1_500));
      const [subReport] = await stopAll(sub, pub);
      return subReport!.summary?.role === 'sub' ? subReport!.summary.deadline_missed : -1;
    };
    // 1.5 s at 5 Hz has ~7 gaps of 200 ms, each missing the 50 ms deadline at least once.
    expect(await run(106, 5, 50)).toBeGreaterThanOrEqual(5);
    // The control: the same measurement must be able to say "no misses".
    expect(await run(107, 20, 500)).toBe(0);
  });

  test('transient_local keep_last 3: a late joiner gets the last 3 samples; a volatile one gets none', async () => {
    const qos: TopicQos = {
      reliability: 'reliable',
      durability: 'transient_local',
      history: { kind: 'keep_last', depth: 3 },
    };
    const t = topic('tl');
    await using pub = await startDdsProbe({
      role: 'pub',
      topic: t,
      domain: 108,
      qos,
      label: 'tl-pub',
      rateHz: 100,
      count: 10,
    });
    await pub.waitFor('idle', 5_000);
    await using late = await startDdsProbe({ role: 'sub', topic: t, domain: 108, qos, label: 'tl-late-sub' });
    await late.waitFor('sample', 5_000, (s) => s.seq === 9);
    await using volatileSub = await startDdsProbe({
      role: 'sub',
      topic: t,
      domain: 108,
      qos: { ...qos, durability: 'volatile' },
      label: 'tl-volatile-sub',
    });
    await volatileSub.waitFor('matched', 5_000, (m) => m.current > 0);
    await new Promise((r) => setTimeout(r, 500));
    const [lateReport, volatileReport] = await stopAll(late, volatileSub, pub);
    expect(lateReport!.samples.map((s) => s.seq)).toEqual([7, 8, 9]);
    expect(volatileReport!.samples).toHaveLength(0);
  });

  test('manual_by_topic liveliness with a 300 ms lease: a writer that stops writing is reported not alive', async () => {
    const qos: TopicQos = { ...RELIABLE, liveliness: { kind: 'manual_by_topic', leaseMs: 300 } };
    const t = topic('live');
    await using sub = await startDdsProbe({ role: 'sub', topic: t, domain: 113, qos, label: 'live-sub' });
    // Writing asserts liveliness; after its 5 samples the writer goes quiet but stays up.
    await using pub = await startDdsProbe({
      role: 'pub',
      topic: t,
      domain: 113,
      qos,
      label: 'live-pub',
      rateHz: 20,
      count: 5,
    });
    await sub.waitFor('liveliness', 5_000, (e) => e.alive === 1);
    await pub.waitFor('idle', 5_000);
    const lost = await sub.waitFor('liveliness', 5_000, (e) => e.alive === 0 && e.not_alive === 1);
    expect(await pub.waitFor('liveliness_lost', 5_000)).toMatchObject({ total: 1 });
    const idle = pub.events.find((e) => e.kind === 'idle');
    // Not before the lease ran out after the last write (a little slack for the 50 ms polling).
    expect(lost.t - idle!.t).toBeGreaterThan(250e6);
  });

  test('a flag the probe refuses fails the start, naming the probe and the flag', async () => {
    const start = startDdsProbe({
      role: 'sub',
      topic: topic('bad'),
      domain: 109,
      qos: { ...RELIABLE, history: { kind: 'keep_last', depth: 0 } },
      label: 'bad-sub',
    });
    await expect(start).rejects.toThrow(DdsProbeError);
    await expect(start).rejects.toThrow(/^ddsprobe bad-sub: --history must be an integer in \[1, 100000\]/);
  });

  test('SIGKILL of the harness process takes its probes with it', async () => {
    const probeTs = join(dirname(fileURLToPath(import.meta.url)), 'probe.ts');
    const script =
      `import { startDdsProbe } from ${JSON.stringify(probeTs)};` +
      `const p = await startDdsProbe({ role: 'sub', topic: 'fd_orphan', domain: 110, label: 'orphan',` +
      ` qos: { reliability: 'reliable', durability: 'volatile', history: { kind: 'keep_last', depth: 1 } } });` +
      `process.stdout.write(p.pid + "\\n"); setInterval(() => undefined, 1_000);`;
    // One node process with tsx's loader in it (the tsx CLI would add a process in between).
    const harness = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const unregister = onProcessExit(() => harness.kill('SIGKILL'));
    try {
      // The first line that is only a number is the pid, whatever else node prints around it.
      const pid = await new Promise<number>((resolve, reject) => {
        let out = '';
        harness.stdout.on('data', (d: Buffer) => {
          out += String(d);
          const line = out.split('\n').find((l) => /^\d+$/.test(l.trim()));
          if (line) resolve(Number(line.trim()));
        });
        harness.once('exit', (code) =>
          reject(new Error(`harness exited (${code}) before printing the probe pid: ${out}`)),
        );
      });
      expect(isAlive(pid), `probe pid ${pid} alive before the kill`).toBe(true);
      process.kill(harness.pid!, 'SIGKILL');
      await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
    } finally {
      harness.kill('SIGKILL');
      unregister();
    }
  });
});

test.describe('ddsprobe output handling', () => {
  let dir: string;
  test.beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleetdrill-fakeprobe-'));
  });
  test.afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // A stand-in for the binary, not for the code under test: the wrapper's line handling.
  async function fakeProbe(name: string, body: string): Promise<string> {
    const file = join(dir, name);
    await writeFile(file, `#!/bin/sh\n${body}\n`);
    await chmod(file, 0o755);
    return file;
  }
  const READY = `echo '{"kind":"ready","t":1,"role":"sub","topic":"x","domain":0,"pid":'$$'}'`;

  test('a garbled line fails the probe with an error naming the probe and the line', async () => {
    const binary = await fakeProbe('garbled', `${READY}\necho 'sample seq=3 oops'\nexec sleep 30`);
    const probe = await startDdsProbe({
      role: 'sub',
      topic: 'x',
      qos: RELIABLE,
      label: 'garbled-sub',
      binary,
    });
    const waiting = probe.waitFor('sample', 10_000);
    await expect(waiting).rejects.toThrow(
      'ddsprobe garbled-sub: garbled output line (not JSON): "sample seq=3 oops"',
    );
    await expect(probe.done).rejects.toThrow(DdsProbeError);
    await expect(probe.stop()).rejects.toThrow(/garbled-sub/);
  });

  test('a well-formed line with a wrong field is garbled too, naming the field', async () => {
    const binary = await fakeProbe(
      'badfield',
      `${READY}\necho '{"kind":"sample","seq":-1,"sent":1,"recv":2,"size":0}'\nexec sleep 30`,
    );
    const probe = await startDdsProbe({
      role: 'sub',
      topic: 'x',
      qos: RELIABLE,
      label: 'badfield-sub',
      binary,
    });
    await expect(probe.done).rejects.toThrow('ddsprobe badfield-sub: garbled output line (seq: ');
    await expect(probe.done).rejects.toThrow(String.raw`"{\"kind\":\"sample\",\"seq\":-1,`);
  });

  test('a probe that ignores SIGTERM is killed after the grace, with no summary', async () => {
    const binary = await fakeProbe('stubborn', `trap '' TERM\n${READY}\nexec sleep 30`);
    const probe = await startDdsProbe({
      role: 'sub',
      topic: 'x',
      qos: RELIABLE,
      label: 'stubborn-sub',
      binary,
    });
    const started = performance.now();
    const report = await probe.stop(300);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(report).toMatchObject({ summary: null, signal: 'SIGKILL' });
  });

  test('waitFor times out naming the probe and the event kind', async () => {
    const binary = await fakeProbe('quiet', `${READY}\nexec sleep 30`);
    await using probe = await startDdsProbe({
      role: 'sub',
      topic: 'x',
      qos: RELIABLE,
      label: 'quiet-sub',
      binary,
    });
    const waiting = probe.waitFor('matched', 200);
    await expect(waiting).rejects.toThrow(TimeoutError);
    await expect(waiting).rejects.toThrow("ddsprobe quiet-sub: no 'matched' event within 200 ms");
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
