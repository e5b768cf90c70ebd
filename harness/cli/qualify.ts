/**
 * `fleetdrill qualify` and `fleetdrill merge`: a release candidate in, a verdict a release
 * manager can sign out.
 *
 * qualify runs one shard (all of it when unsharded): the suite's drills on each backend the
 * qualification file names (Playwright, `--shard i/n`, blob reports), then the evidence sources
 * dealt to this shard (HIL stage, QoS matrix, OTA fuzz), and leaves it all in its directory with
 * a manifest. merge reads the shards' directories, merges the blob reports into one drill result,
 * collects the figures, judges every requirement against the baseline from the history store,
 * writes the report (HTML, JSON, JUnit) and the Allure report, and appends the run to the
 * history. Unsharded, qualify merges its own directory at once.
 *
 * Exit codes: 0 qualified, 1 not qualified, 2 could not judge (or bad input); a shard of several
 * exits 0 when it ran, whatever its drills said: the verdict is the merge's.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { parseSeed } from '../core/seed.ts';
import { redactStrings } from '../core/redact.ts';
import { redactSecrets } from '../core/secrets.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { runHil } from '../hil/run.ts';
import { runOtaFuzz } from '../ota/fuzz.ts';
import {
  contractForModel,
  ddsDrillsAvailability,
  plotCells,
  REDUCED_MATRIX_PROFILES,
  runQosMatrix,
} from '../qos/index.ts';
import { drillEvidence } from '../report/qualification/drill-evidence.ts';
import {
  DEFAULT_HISTORY,
  figureTrend,
  openHistory,
  restoreAllureHistory,
  saveAllureHistory,
  type HistoryStore,
} from '../report/qualification/history.ts';
import { judge } from '../report/qualification/judge.ts';
import { loadQualificationFile } from '../report/qualification/requirements.ts';
import {
  parseShard,
  readShardDirs,
  releaseSeed,
  SHARD_MANIFEST,
  shardLabel,
  sourcesOfShard,
  type ShardManifest,
  type SourceName,
} from '../report/qualification/shards.ts';
import { fuzzFigures, hilFigures, qosFigures } from '../report/qualification/source-figures.ts';
import { findSutFiles, recordSut } from '../report/qualification/sut.ts';
import type {
  Figure,
  Qualification,
  QualificationFile,
  RunEvidence,
  SoftwareUnderTest,
} from '../report/qualification/types.ts';
import { writeAllureCategories } from '../report/allure-categories.ts';
import { writeAllureEnvironment } from '../report/allure-environment.ts';
import { checkWaivers, loadWaivers } from '../report/qualification/waivers.ts';
import { writeQualificationReport, type QualificationExtras } from '../report/qualification/html.ts';
import type { TrendSeries } from '../report/charts/index.ts';
import type { HilResult } from '../hil/types.ts';
import type { OtaFuzzResult } from '../ota/fuzz.ts';
import { fuzzCuts } from '../report/fuzz-evidence.ts';
import type { QosMatrixResult } from '../qos/dds/matrix.ts';
import { allureBinary } from './report.ts';
import { PLAYWRIGHT_CLI, runPlaywright } from './scenarios.ts';

/** The reference stack's qualification file. */
export const DEFAULT_QUALIFICATION = join(REPO_ROOT, 'qualification.yaml');

/** `fleetdrill qualify` options as commander hands them over. */
export interface QualifyFlags {
  release: string;
  baseline?: string;
  shard?: string;
  qualification?: string;
  waivers?: string;
  history?: string;
  sutVersion?: string;
  seed?: string;
  out?: string;
  /** False with --no-allure: the qualification report only, no Allure report (it needs Java). */
  allure?: boolean;
}

/** `fleetdrill merge` options. */
export interface MergeFlags {
  release: string;
  baseline?: string;
  qualification?: string;
  waivers?: string;
  history?: string;
  out?: string;
  allure?: boolean;
}

const RELEASE = /^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$/;

function checkRelease(value: string, flag: string): string {
  if (!RELEASE.test(value)) throw new ConfigError(flag, `must be a version such as 2.4.0, got '${value}'`);
  return value;
}

export async function qualify(flags: QualifyFlags): Promise<number> {
  const release = checkRelease(flags.release, '--release');
  if (flags.baseline !== undefined) checkRelease(flags.baseline, '--baseline');
  const file = await loadQualificationFile(resolve(flags.qualification ?? DEFAULT_QUALIFICATION));
  const waivers = flags.waivers ? await loadWaivers(resolve(flags.waivers)) : [];
  checkWaivers(waivers, file, flags.waivers);
  const shard = parseShard(flags.shard);
  const seed = flags.seed === undefined ? releaseSeed(release) : parseSeed(flags.seed, '--seed');
  const out = resolve(
    flags.out ??
      join(
        REPO_ROOT,
        'reports',
        'qualify',
        release,
        shard.total > 1 ? `shard-${shard.index}-of-${shard.total}` : '',
      ),
  );
  console.error(
    `fleetdrill qualify ${release}: shard ${shardLabel(shard)}, seed ${seed} (replay with --seed ${seed}), ${file.requirements.length} requirements from ${file.path}`,
  );
  await runShard({ file, release, seed, shard, out, sutVersion: flags.sutVersion });
  if (shard.total > 1) {
    console.error(
      `fleetdrill qualify: shard ${shardLabel(shard)} is in ${out}; merge the shards with fleetdrill merge`,
    );
    return 0;
  }
  return merge([out], { ...flags, out });
}

interface ShardRun {
  file: QualificationFile;
  release: string;
  seed: number;
  shard: { index: number; total: number };
  out: string;
  sutVersion?: string;
}

/** Runs one shard into `out`: its drills per backend, its sources, its manifest. */
async function runShard(run: ShardRun): Promise<void> {
  await rm(run.out, { recursive: true, force: true });
  await mkdir(join(run.out, 'sources'), { recursive: true });
  const startedAt = new Date().toISOString();
  const sut = await recordSut({
    release: run.release,
    sutVersion: run.sutVersion,
    ...(await findSutFiles()),
  });
  const drillExitCodes: Record<string, number> = {};
  for (const backend of run.file.suite.backends) {
    const args = [
      `--project=${backend === 'docker' ? 'docker-all' : 'embedded'}`,
      '--grep',
      run.file.suite.grep,
      '--pass-with-no-tests',
      ...(run.shard.total > 1 ? [`--shard=${shardLabel(run.shard)}`] : []),
    ];
    const code = await runPlaywright(args, {
      ...process.env,
      FLEETDRILL_SEED: String(run.seed),
      FLEETDRILL_BLOB_DIR: join(run.out, 'blob', backend),
      FLEETDRILL_ALLURE_RESULTS: join(run.out, 'allure-results', backend),
      FLEETDRILL_RESULTS_JSON: join(run.out, `results-${backend}.json`),
    });
    drillExitCodes[backend] = code;
    if (code !== 0 && code !== 1)
      console.error(`fleetdrill qualify: the ${backend} drills ended with exit code ${code} (not a verdict)`);
  }
  const sources = sourcesOfShard(run.file, run.shard);
  const missing: ShardManifest['missing'] = [];
  const ran: SourceName[] = [];
  for (const source of sources) {
    console.error(`fleetdrill qualify: ${source}`);
    try {
      const result = await runSource(source, run);
      if ('missing' in result) missing.push({ source, reason: result.missing });
      else {
        // A source's data quotes what it ran (the HIL stage's device logs): redacted like a report.
        await writeFile(
          join(run.out, 'sources', `${source}.json`),
          JSON.stringify(redactStrings(result.data, redactSecrets)),
        );
        ran.push(source);
      }
    } catch (error) {
      missing.push({ source, reason: `failed to run: ${(error as Error).message.split('\n')[0]}` });
    }
  }
  const manifest: ShardManifest = {
    release: run.release,
    seed: run.seed,
    shard: run.shard,
    startedAt,
    finishedAt: new Date().toISOString(),
    sut,
    backends: run.file.suite.backends,
    drillExitCodes,
    sources: ran,
    missing,
  };
  await writeFile(join(run.out, SHARD_MANIFEST), JSON.stringify(manifest, null, 2));
}

/** Runs one evidence source; `missing` when this machine cannot run it. */
async function runSource(
  source: SourceName,
  run: ShardRun,
): Promise<{ data: unknown } | { missing: string }> {
  const config = loadConfig();
  if (source === 'hil') {
    const { result, verdict } = await runHil({
      discipline: config.hil.discipline,
      budgets: config.hil.budgets,
      seed: run.seed,
    });
    return { data: { result, verdict } };
  }
  if (source === 'qos-matrix') {
    const available = await ddsDrillsAvailability();
    if (!available.ok) return { missing: `real DDS cannot run here: ${available.missing}` };
    // The reference robot's contract over the reduced profiles: the full matrix is the nightly's.
    const result = await runQosMatrix({
      contract: contractForModel('fd-amr-1'),
      profiles: REDUCED_MATRIX_PROFILES,
      seed: run.seed,
    });
    return { data: result };
  }
  const fuzz = run.file.sources.otaFuzz!;
  const result = await runOtaFuzz({
    cuts: fuzz.cuts,
    seed: run.seed,
    otaClient: fuzz.client as never,
    onProgress: (line) => console.error(line),
  });
  return { data: result };
}

/** Merges the shards' blob reports of one backend into Playwright JSON, and reads it. */
async function mergedDrills(dirs: readonly string[], backend: string, out: string): Promise<unknown> {
  const blobs = await mkdtemp(join(tmpdir(), `fleetdrill-${process.pid}-blobs-`));
  try {
    let count = 0;
    for (const [i, dir] of dirs.entries()) {
      const from = join(dir, 'blob', backend);
      const names = await readdir(from).catch(() => [] as string[]);
      for (const name of names.filter((n) => n.endsWith('.zip'))) {
        await cp(join(from, name), join(blobs, `${i + 1}-${name}`));
        count++;
      }
    }
    if (count === 0) return undefined;
    const json = join(out, `results-${backend}.json`);
    await new Promise<void>((resolvePromise, reject) => {
      const child = spawn(process.execPath, [PLAYWRIGHT_CLI, 'merge-reports', '--reporter=json', blobs], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: json },
      });
      child.once('error', reject);
      child.once('exit', (code) =>
        code === 0
          ? resolvePromise()
          : reject(new Error(`playwright merge-reports exited with code ${code}`)),
      );
    });
    return JSON.parse(await readFile(json, 'utf8'));
  } finally {
    await rm(blobs, { recursive: true, force: true });
  }
}

/** The sources' raw results, as the shards wrote them. */
interface SourceResults {
  hil?: { result: HilResult };
  qos?: QosMatrixResult;
  fuzz?: OtaFuzzResult;
}

/** Figures and plot data from the sources' raw results in a shard's directory. */
async function sourceEvidence(dir: string, sources: readonly SourceName[]) {
  const figures: Figure[] = [];
  const extras: SourceResults = {};
  for (const source of sources) {
    // Written by this program's own runShard: the shapes are its own results'.
    const data: unknown = JSON.parse(await readFile(join(dir, 'sources', `${source}.json`), 'utf8'));
    if (source === 'hil') {
      extras.hil = data as { result: HilResult };
      figures.push(...hilFigures(extras.hil.result));
    } else if (source === 'qos-matrix') {
      extras.qos = data as QosMatrixResult;
      figures.push(...qosFigures(extras.qos));
    } else {
      extras.fuzz = data as OtaFuzzResult;
      figures.push(...fuzzFigures(extras.fuzz));
    }
  }
  return { figures, extras };
}

export async function merge(dirs: readonly string[], flags: MergeFlags): Promise<number> {
  const release = checkRelease(flags.release, '--release');
  const file = await loadQualificationFile(resolve(flags.qualification ?? DEFAULT_QUALIFICATION));
  const waivers = flags.waivers ? await loadWaivers(resolve(flags.waivers)) : [];
  checkWaivers(waivers, file, flags.waivers);
  const shardDirs = dirs.map((dir) => resolve(dir));
  const { manifests, notes, missingShards } = await readShardDirs(shardDirs);
  const first = manifests[0]!;
  if (first.release !== release)
    throw new ConfigError('--release', `is ${release}, but the shards qualified ${first.release}`);
  const out = resolve(flags.out ?? join(REPO_ROOT, 'reports', 'qualify', release));
  await mkdir(out, { recursive: true });

  const evidence: RunEvidence = { drills: [], figures: [], missing: [] };
  const extras: SourceResults = {};
  for (const backend of first.backends) {
    const report = await mergedDrills(shardDirs, backend, out);
    if (report === undefined) {
      evidence.missing.push({ source: `drills on ${backend}`, reason: 'no shard left a blob report' });
      continue;
    }
    const drills = drillEvidence(report);
    evidence.drills.push(...drills.drills);
    // A drill run on two backends records its figures twice: the first backend's keep their
    // ids (the ones qualification.yaml names), the others' get the backend as a last segment.
    const suffix = backend === first.backends[0] ? '' : `/on-${backend}`;
    evidence.figures.push(...drills.figures.map((f) => ({ ...f, id: `${f.id}${suffix}` })));
  }
  for (const manifest of manifests) {
    evidence.missing.push(...manifest.missing);
    const sources = await sourceEvidence(manifest.dir, manifest.sources);
    evidence.figures.push(...sources.figures);
    Object.assign(extras, sources.extras);
  }
  for (const i of missingShards)
    evidence.missing.push({
      source: `shard ${i}/${first.shard.total}`,
      reason: 'its directory was not given',
    });

  const history = await openHistory(flags.history ?? DEFAULT_HISTORY);
  try {
    const baselineRun = flags.baseline ? await history.latestRelease(flags.baseline) : undefined;
    if (flags.baseline && !baselineRun)
      notes.push(
        `baseline ${flags.baseline} is not in the history store: relative thresholds are not judged`,
      );
    let q: Qualification = judge({
      file,
      evidence,
      // Asked for but not stored: every relative bound is then "not judged", never skipped.
      baseline: flags.baseline ? { release: flags.baseline, figures: baselineRun?.figures ?? [] } : undefined,
      waivers,
      sut: first.sut,
      seed: first.seed,
      now: new Date(),
    });
    if (flags.baseline) q = { ...q, baseline: flags.baseline };
    // A missing shard hides drills no requirement can know of: the verdict cannot be "qualified".
    if (missingShards.length && q.exitCode === 0)
      q = {
        ...q,
        outcome: 'not-judged',
        exitCode: 2,
        summary: `${release} could not be judged: ${notes[0]}`,
      };
    q = { ...q, notes: [...q.notes, ...notes] };

    // Stored first, so the report's trends end with this run.
    await history.append({
      runId: `qualify-${release}-${first.seed}-${Date.now()}`,
      kind: 'qualification',
      release,
      seed: first.seed,
      startedAt: manifests.map((m) => m.startedAt).sort()[0]!,
      sut: first.sut,
      figures: evidence.figures,
      verdicts: q.requirements.map((r) => ({ id: r.id, status: r.status, severity: r.severity })),
      outcome: q.outcome,
      drills: {
        passed: evidence.drills.filter((d) => d.status === 'passed').length,
        failed: evidence.drills.filter((d) => d.status === 'failed').length,
        skipped: evidence.drills.filter((d) => d.status === 'skipped' || d.status === 'known-gap').length,
      },
    });
    // Beside allure-report/, as its requirement links expect (../qualification/qualification.html).
    await writeQualificationReport(join(out, 'qualification'), q, await plotData(history, q, extras));
    if (flags.allure !== false)
      await generateMergedAllure(shardDirs, first.backends, out, history, first.sut);
    if (flags.allure !== false && existsSync(join(out, 'allure-report', 'history')))
      await saveAllureHistory(history, join(out, 'allure-report', 'history'));
    printVerdict(q, out);
    return q.exitCode;
  } finally {
    history.close();
  }
}

/** Data for the report's plots: trends from the history, and the sources' raw results. */
async function plotData(
  history: HistoryStore,
  q: Qualification,
  sources: SourceResults,
): Promise<QualificationExtras> {
  const trendIds = new Set<string>();
  for (const requirement of q.requirements)
    for (const result of requirement.results) if (result.value !== undefined) trendIds.add(result.evidence);
  const trends: TrendSeries[] = [];
  for (const id of [...trendIds].slice(0, 8)) {
    const points = await figureTrend(history, id, 20);
    if (points.length === 0) continue;
    const unit = q.requirements.flatMap((r) => r.results).find((r) => r.evidence === id)?.unit ?? '';
    trends.push({
      figure: id,
      unit,
      points: points.map((p) => ({
        label: p.release ?? p.runId,
        startedAt: p.startedAt,
        value: p.value,
        valid: p.valid,
      })),
    });
  }
  const extras: QualificationExtras = { trends };
  if (sources.hil) {
    const { result } = sources.hil;
    const budget = loadConfig().hil.budgets[result.model.name.replace(/\.onnx$/i, '')]?.local;
    extras.hil = {
      perQueryMs: result.perQueryMs,
      ...(budget?.p99Ms !== undefined && { budgetP99Ms: budget.p99Ms }),
      title: `${result.model.name} on ${result.stage}: ${result.queries} queries`,
    };
  }
  if (sources.qos) extras.qosCells = plotCells(sources.qos);
  // A shard's result from before the fuzz recorded each cut has none to plot: no plot, not an empty one.
  if (sources.fuzz?.cut_outcomes) extras.fuzz = fuzzCuts(sources.fuzz);
  return extras;
}

/** One Allure report of every shard and backend, its history carried by the history store. */
async function generateMergedAllure(
  dirs: readonly string[],
  backends: readonly string[],
  out: string,
  history: HistoryStore,
  sut: SoftwareUnderTest,
): Promise<void> {
  const results = join(out, 'allure-results');
  await rm(results, { recursive: true, force: true });
  await mkdir(results, { recursive: true });
  for (const dir of dirs)
    for (const backend of backends)
      await cp(join(dir, 'allure-results', backend), results, { recursive: true }).catch(() => undefined);
  await restoreAllureHistory(history, results);
  // Merged shards have no reporter that writes last: the categories and the environment are set
  // here, with the software under test beside the run.
  await writeAllureCategories(results);
  await writeAllureEnvironment(results, sutEnvironment(sut));
  const code = await new Promise<number>((resolvePromise) => {
    const child = spawn(allureBinary(), ['generate', results, '-o', join(out, 'allure-report'), '--clean'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', () => resolvePromise(-1));
    child.once('exit', (exit) => resolvePromise(exit ?? -1));
  });
  if (code !== 0)
    console.error(`fleetdrill: allure generate failed (${code}); the qualification report stands`);
}

/** The software under test as Allure environment entries: `sut.robot = 1.0.0 sha256:…`. */
export function sutEnvironment(sut: SoftwareUnderTest): Record<string, string> {
  const entries: Record<string, string> = { 'sut.release': sut.release };
  for (const component of sut.components)
    entries[`sut.${component.name}`] = [
      component.version,
      component.digest?.slice(0, 19),
      `(${component.source})`,
    ]
      .filter(Boolean)
      .join(' ');
  return entries;
}

function printVerdict(q: Qualification, out: string): void {
  for (const r of q.requirements) {
    const detail = r.results
      .filter((e) => e.status !== 'passed')
      .map((e) => `${e.evidence}: ${e.detail}`)
      .join('; ');
    console.log(`${r.status.padEnd(10)} ${r.id} (${r.severity}) ${r.title}${detail ? ` — ${detail}` : ''}`);
  }
  for (const note of q.notes) console.log(`note: ${note}`);
  console.log(q.summary);
  console.log(`report: ${join(out, 'qualification', 'qualification.html')}`);
}

/**
 * A nightly run's history: appends the run to the store (its drills' outcomes and the figures
 * they recorded, read from the run's Playwright JSON report), so trends span nightlies as well as
 * releases; then generates the Allure report with the history the store carries, and stores the
 * report's new history, so Allure's trend widgets fill on CI machines that keep nothing else.
 */
export async function nightlyWithHistory(options: {
  history?: string;
  resultsJson: string;
  seed: number;
  generateReport: (resultsDir: string) => Promise<string>;
  resultsDir: string;
}): Promise<string> {
  const history = await openHistory(options.history ?? DEFAULT_HISTORY);
  try {
    const report = existsSync(options.resultsJson)
      ? (JSON.parse(await readFile(options.resultsJson, 'utf8')) as unknown)
      : { suites: [] };
    const { drills, figures } = drillEvidence(report);
    const sut = await recordSut({ release: 'nightly', ...(await findSutFiles()) });
    await history.append({
      runId: `nightly-${options.seed}-${Date.now()}`,
      kind: 'nightly',
      seed: options.seed,
      startedAt: new Date().toISOString(),
      sut,
      figures,
      verdicts: [],
      drills: {
        passed: drills.filter((d) => d.status === 'passed').length,
        failed: drills.filter((d) => d.status === 'failed').length,
        skipped: drills.filter((d) => d.status === 'skipped' || d.status === 'known-gap').length,
      },
    });
    await restoreAllureHistory(history, options.resultsDir);
    await writeAllureEnvironment(options.resultsDir, sutEnvironment(sut));
    const dir = await options.generateReport(options.resultsDir);
    if (existsSync(join(dir, 'history'))) await saveAllureHistory(history, join(dir, 'history'));
    return dir;
  } finally {
    history.close();
  }
}
