/**
 * Where a robot's bring-up CPU goes on the embedded backend (issue 17), run by hand:
 *
 *   npx tsx bench/bringup-profile.ts [--robots 10,50] [--cpu-prof [--idle] [--detail edge-agent]] [--idle-s 1]
 *
 * It brings a fleet up as bench/fleet.ts does (cloud, agents, factory image), waits until every
 * agent answers, and reads the CPU time (user + sys, from /proc/<pid>/stat) of every process the
 * fleet started, by kind, and of this harness process (`process.cpuUsage()`). CPU time, not wall
 * time: other work on the machine stretches wall time but not the CPU a robot costs.
 *
 * With `--cpu-prof` every child preloads a V8 CPU profiler (`--import` in NODE_OPTIONS, which the
 * robot host hands on to its software worker and its agent; Node 20 refuses `--cpu-prof` there)
 * that writes its profile when the process or thread exits, and the profiles' self time is split by the
 * source file each sampled function came from (the `// path` markers esbuild leaves in a bundle),
 * so module loading, the factory image's hash and write, the lidar and the ring show up by name.
 * Profiling slows the children; its totals are for the split, the plain run's for the total.
 * `--idle` splits the profiles after every agent answered instead (what robots cost once up,
 * over `--idle-s` seconds and the stop); `--detail <kind>` lists that kind's top functions.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Fleet } from '../harness/fleet/index.ts';
import { buildRobotVariant, FACTORY_VERSION, payloadRange, provisionRobots } from '../harness/ota/index.ts';

const { values } = parseArgs({
  options: {
    robots: { type: 'string', default: '10,50' },
    'cpu-prof': { type: 'boolean', default: false },
    top: { type: 'string', default: '14' },
    /** Seconds after every agent answered over which the idle CPU is read. */
    'idle-s': { type: 'string', default: '1' },
    /** Split the profiles' idle seconds instead of the bring-up. */
    idle: { type: 'boolean', default: false },
    /** A process kind whose top functions are listed too, e.g. edge-agent. */
    detail: { type: 'string' },
  },
});
const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/<pid>/stat times on Linux

/** What one process of the fleet has cost so far. */
interface ProcessCpu {
  pid: number;
  kind: string;
  cpuMs: number;
}

/** The kind of a fleet process, from its command line. */
function kindOf(cmdline: string): string {
  for (const kind of ['robot-host', 'edge-agent', 'fleet-cloud', 'toxiproxy', 'state-hook']) {
    if (cmdline.includes(`${kind}.mjs`)) return kind;
  }
  return cmdline.split(' ').slice(0, 2).join(' ');
}

function statCpuMs(stat: string): { ppid: number; cpuMs: number } {
  // The command name may hold spaces and parentheses: fields are counted after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime
  return { ppid, cpuMs: (ticks * 1000) / TICKS_PER_SECOND };
}

/** Every live descendant of this process with its CPU time. */
function fleetProcesses(): ProcessCpu[] {
  const byParent = new Map<number, Array<{ pid: number; cpuMs: number }>>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const { ppid, cpuMs } = statCpuMs(readFileSync(`/proc/${entry}/stat`, 'utf8'));
      const siblings = byParent.get(ppid) ?? [];
      siblings.push({ pid: Number(entry), cpuMs });
      byParent.set(ppid, siblings);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const found: ProcessCpu[] = [];
  const walk = (parent: number): void => {
    for (const child of byParent.get(parent) ?? []) {
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        continue;
      }
      found.push({ pid: child.pid, kind: kindOf(cmdline), cpuMs: child.cpuMs });
      walk(child.pid);
    }
  };
  walk(process.pid);
  return found;
}

function sumByKind(processes: ProcessCpu[]): Map<string, { count: number; cpuMs: number }> {
  const sums = new Map<string, { count: number; cpuMs: number }>();
  for (const { kind, cpuMs } of processes) {
    const sum = sums.get(kind) ?? { count: 0, cpuMs: 0 };
    sum.count++;
    sum.cpuMs += cpuMs;
    sums.set(kind, sum);
  }
  return sums;
}

/** When every agent answered, on the monotonic clock V8's profiles use: later samples are not bring-up. */
let readyAtUs = Infinity;

/** Brings up `robots`, reads CPU at every agent ready and 1 s later, and stops the fleet. */
async function bringUp(robots: number): Promise<void> {
  const harnessBefore = process.cpuUsage();
  const startedAt = performance.now();
  const fleet = await new Fleet({
    robots,
    seed: 17,
    world: 'empty',
    telemetry: true,
    readyTimeoutMs: 120_000,
    provision: provisionRobots(),
  }).start();
  try {
    await Promise.all(fleet.roster.map((robot) => robot.agent.waitUntilReady(120_000)));
    const agentsMs = performance.now() - startedAt;
    readyAtUs = Number(process.hrtime.bigint() / 1000n);
    const atReady = fleetProcesses();
    const harness = process.cpuUsage(harnessBefore);
    const idleS = Number(values['idle-s']);
    await new Promise((resolve) => setTimeout(resolve, idleS * 1000));
    const later = sumByKind(fleetProcesses());
    console.log(
      `\n${robots} robots: fleet ready ${fleet.info.readyMs} ms, agents ready ${Math.round(agentsMs)} ms (wall)`,
    );
    console.log('| process | count | CPU ms at agents ready | per process | idle CPU ms/s per process |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const [kind, { count, cpuMs }] of sumByKind(atReady)) {
      const steady = ((later.get(kind)?.cpuMs ?? cpuMs) - cpuMs) / count / idleS;
      console.log(
        `| ${kind} | ${count} | ${Math.round(cpuMs)} | ${Math.round(cpuMs / count)} | ${Math.round(steady)} |`,
      );
    }
    const harnessMs = (harness.user + harness.system) / 1000;
    console.log(
      `| harness (this process) | 1 | ${Math.round(harnessMs)} | ${Math.round(harnessMs / robots)} per robot | |`,
    );
    const total = atReady.reduce((sum, p) => sum + p.cpuMs, 0) + harnessMs;
    console.log(`total ${Math.round(total)} CPU ms, ${Math.round(total / robots)} per robot`);
  } finally {
    await fleet.stop();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Line number → the source file esbuild marked it with (`// reference/x.ts`), per bundle. */
const markerCache = new Map<string, Array<{ line: number; source: string }>>();
async function sourceAt(url: string, line: number): Promise<string> {
  if (!url.startsWith('file://')) {
    if (url.startsWith('node:internal/modules/')) return 'node:internal/modules (module loading)';
    return url.replace(/^node:internal\/([^/]+)(\/[^/]+)?.*/, 'node:internal/$1$2');
  }
  let markers = markerCache.get(url);
  if (!markers) {
    markers = [];
    try {
      const lines = (await bundleText(url)).split('\n');
      lines.forEach((text, index) => {
        const match = /^\/\/ ((?:\.\.\/)*(?:node_modules|reference|protocol|harness)\/\S+)$/.exec(text);
        if (match?.[1]) markers?.push({ line: index, source: match[1].replace(/^(\.\.\/)+/, '') });
      });
    } catch {
      // A slot file rewritten since: the url stays the answer.
    }
    markerCache.set(url, markers);
  }
  let source = url.replace(/^.*\//, '');
  for (const marker of markers) {
    if (marker.line > line) break;
    source = marker.source;
  }
  return source.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+)\/.*/, '$1 (package)');
}

/**
 * A bundle's text. A slot's payload went with the robot's disk when the fleet stopped: it is the
 * factory image's payload, rebuilt from the cache.
 */
async function bundleText(url: string): Promise<string> {
  if (!/\/slot-?[ab]\//i.test(url) && !url.endsWith('/payload')) return readFile(new URL(url), 'utf8');
  const factory = await buildRobotVariant({ variant: 'good', version: FACTORY_VERSION });
  const { offset, length } = await payloadRange(factory.path);
  return (await readFile(factory.path)).subarray(offset, offset + length).toString('utf8');
}

/** Which process a profile came from: the bundle its top frames ran, else the file name. */
function profileKind(profile: CpuProfile, file: string): string {
  const urls = new Set(profile.nodes.map((n) => n.callFrame.url));
  for (const kind of ['robot-host', 'edge-agent', 'fleet-cloud', 'toxiproxy']) {
    if ([...urls].some((url) => url.endsWith(`${kind}.mjs`))) return kind;
  }
  if ([...urls].some((url) => /\/slot-[ab]\//i.test(url) || url.includes('payload')))
    return 'robot software (worker)';
  return file;
}

async function splitProfiles(dir: string): Promise<void> {
  const byKind = new Map<
    string,
    { profiles: number; total: number; bySource: Map<string, number>; byFunction: Map<string, number> }
  >();
  for (const file of await readdir(dir)) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const kind = profileKind(profile, file);
    const entry = byKind.get(kind) ?? {
      profiles: 0,
      total: 0,
      bySource: new Map<string, number>(),
      byFunction: new Map<string, number>(),
    };
    entry.profiles++;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const selfUs = new Map<number, number>();
    let at = profile.startTime;
    profile.samples.forEach((id, i) => {
      const delta = profile.timeDeltas[i] ?? 0;
      at += delta;
      if (at <= readyAtUs !== values.idle) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    });
    for (const [id, us] of selfUs) {
      const node = nodes.get(id);
      if (!node) continue;
      const { url, functionName, lineNumber } = node.callFrame;
      if (functionName === '(idle)') continue;
      const source = url ? await sourceAt(url, lineNumber) : functionName;
      entry.total += us;
      entry.bySource.set(source, (entry.bySource.get(source) ?? 0) + us);
      if (kind === values.detail) {
        const fn = `${functionName || '(top level)'} in ${source}`;
        entry.byFunction.set(fn, (entry.byFunction.get(fn) ?? 0) + us);
      }
    }
    byKind.set(kind, entry);
  }
  const top = Number(values.top);
  for (const [kind, { profiles, total, bySource, byFunction }] of byKind) {
    console.log(
      `\n${kind}: ${profiles} profiles, ${Math.round(total / 1000 / profiles)} ms sampled CPU each`,
    );
    console.log('| source | ms per process | share |');
    console.log('| --- | ---: | ---: |');
    const rows = [...bySource].sort((a, b) => b[1] - a[1]).slice(0, top);
    for (const [source, us] of rows) {
      console.log(
        `| ${source} | ${(us / 1000 / profiles).toFixed(1)} | ${((100 * us) / total).toFixed(0)} % |`,
      );
    }
    for (const [fn, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
      console.log(`  ${(us / 1000 / profiles).toFixed(1)} ms  ${fn}`);
    }
  }
}

/** Profiles the process or worker thread it is preloaded into, from preload to exit. */
const PROFILER_PRELOAD = `
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { threadId } from 'node:worker_threads';
const session = new Session();
session.connect();
session.post('Profiler.enable');
session.post('Profiler.start');
process.on('exit', () => {
  // A session on its own thread answers synchronously, so the profile is written before exit.
  session.post('Profiler.stop', (error, result) => {
    if (!error) writeFileSync(process.env.BRINGUP_PROFILE_DIR + '/' + process.pid + '-' + threadId + '.cpuprofile', JSON.stringify(result.profile));
  });
});
`;

const workDir = values['cpu-prof'] ? await mkdtemp(join(tmpdir(), 'bringup-profile-')) : undefined;
const profileDir = workDir && join(workDir, 'profiles');
if (workDir && profileDir) {
  const preload = join(workDir, 'profiler.mjs');
  await writeFile(preload, PROFILER_PRELOAD);
  process.env.BRINGUP_PROFILE_DIR = profileDir;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload}`;
}
console.log(`bring-up profile, ${new Date().toISOString()}, node ${process.version}`);
for (const robots of values.robots.split(',').map(Number)) {
  if (profileDir) await mkdir(profileDir, { recursive: true });
  await bringUp(robots);
  if (profileDir) {
    await splitProfiles(profileDir);
    await rm(profileDir, { recursive: true, force: true });
  }
}
if (workDir) await rm(workDir, { recursive: true, force: true });
