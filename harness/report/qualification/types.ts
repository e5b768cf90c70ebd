/**
 * The vocabulary of release qualification, shared by its parts: the requirements a release must
 * meet (read from qualification.yaml), the evidence a run produced (drill outcomes and figures),
 * waivers, the software under test, and the verdict. Plain data, so it is stored, merged and
 * rendered without the code that made it.
 */

/** How bad a requirement's failure is: a blocker fails the release, a major one is reported. */
export type Severity = 'blocker' | 'major';

/** Which way a figure improves. */
export type Better = 'lower' | 'higher';

/** Drills that give evidence: every selected drill must pass, and at least one must have run. */
export interface DrillSelector {
  /** A tag such as `@release` or `@ota`; matches drills carrying it. */
  tag?: string;
  /** A substring of the drill's full title (describe titles and test title joined by " › "). */
  title?: string;
  /** A scenario file name without `.spec.ts`, such as `ota-variants`. */
  scenario?: string;
}

/** A threshold on one figure: absolute bounds, and/or a bound on the change against the baseline. */
export interface Threshold {
  /** The figure may not exceed this. */
  max?: number;
  /** The figure may not fall below this. */
  min?: number;
  /**
   * The figure may not worsen by more than this percentage against the baseline's value (worse
   * means higher when `better` is lower, and lower when it is higher). Needs a baseline: without
   * one, this part is not judged and says so.
   */
  maxWorseningPct?: number;
}

/** One figure that gives evidence, with its threshold. */
export interface FigureEvidence {
  /** The figure's id, `<source>/<name>`, e.g. `hil/perception-cnn/p99_ms` or `qos/wifi-edge/cmd_vel/delivery`. */
  figure: string;
  threshold: Threshold;
}

/** One piece of evidence a requirement asks for. */
export type Evidence = { drills: DrillSelector } | FigureEvidence;

/** A requirement of the release, as qualification.yaml states it. */
export interface Requirement {
  /** `AREA-NNN`, e.g. `OTA-003`. */
  id: string;
  title: string;
  severity: Severity;
  /** The area it belongs to: fleet, faults, telemetry, ota, qos, hil. */
  area: string;
  evidence: Evidence[];
}

/** What the qualification file says besides its requirements. */
export interface QualificationFile {
  /** Where it was read from (for messages and the report). */
  path: string;
  /** The drills `fleetdrill qualify` runs: a Playwright grep, and the backends to run them on. */
  suite: { grep: string; backends: Array<'embedded' | 'docker'> };
  /** Which other evidence sources the run produces. */
  sources: { otaFuzz?: { cuts: number; client: string }; qosMatrix?: boolean; hil?: boolean };
  requirements: Requirement[];
}

/** A waiver: a requirement's failure accepted until `expires`, by `owner`, for `reason`. */
export interface Waiver {
  requirement: string;
  reason: string;
  owner: string;
  /** ISO date (YYYY-MM-DD): the waiver holds through the end of that day (UTC). */
  expires: string;
}

/** How one drill ended in a run. */
export type DrillStatus = 'passed' | 'failed' | 'skipped' | 'known-gap';

/** One drill's outcome, as the runner reported it. */
export interface DrillOutcome {
  /** Describe titles and the test title, joined by " › ". */
  title: string;
  /** `scenarios/ota-variants.spec.ts`. */
  file: string;
  project: string;
  tags: string[];
  status: DrillStatus;
  /** The first line of the error when it failed; the skip reason when skipped. */
  message?: string;
  /** Which shard ran it, `i/n`, when sharded. */
  shard?: string;
}

/** One measured figure. */
export interface Figure {
  /** `<source>/<name>`, unique in a run. */
  id: string;
  value: number;
  unit: string;
  better: Better;
  /**
   * False when the measurement does not count (an invalid HIL run, a machine too busy): the
   * figure is then "could not tell", never compared as if it were right.
   */
  valid: boolean;
  /** Why it does not count, or anything a reader needs beside the number. */
  note?: string;
}

/** What ran on the robots, the agent, the cloud and the HIL stage, and where that was read. */
export interface SoftwareUnderTest {
  /** The release under qualification, e.g. `2.4.0`. */
  release: string;
  components: Array<{
    /** `robot`, `edge-agent`, `cloud`, `hil-model`, `robot-image`, `ota-artifact`… */
    name: string;
    version?: string;
    /** `sha256:…` of the file or image that ran. */
    digest?: string;
    /** Where this was read: `--sut-version`, a file path, an image id. */
    source: string;
  }>;
}

/** The evidence of one run (or of merged shards). */
export interface RunEvidence {
  drills: DrillOutcome[];
  figures: Figure[];
  /** Sources that were asked for and did not run or produced nothing, with why. */
  missing: Array<{ source: string; reason: string }>;
}

/** A requirement's status after judging. */
export type RequirementStatus = 'passed' | 'failed' | 'waived' | 'not-judged';

/** One line of a requirement's judgement: a drill selection or a figure against its threshold. */
export interface EvidenceResult {
  /** `drills tag=@ota` or the figure id. */
  evidence: string;
  status: 'passed' | 'failed' | 'not-judged';
  /** Readable: `p99 7.9 ms > max 7.0 ms`, `3 of 3 drills passed`, `no drill matched`. */
  detail: string;
  /** The figure's value in this run, and the baseline's, when a figure. */
  value?: number;
  baseline?: number;
  /** Change against the baseline in percent (positive = worse), when both are known. */
  worseningPct?: number;
  unit?: string;
  /** The drills it covered (titles), when drills. */
  drills?: string[];
}

/** A requirement's judgement. */
export interface RequirementVerdict {
  id: string;
  title: string;
  severity: Severity;
  area: string;
  status: RequirementStatus;
  /** True when a figure worsened past its relative threshold against the baseline. */
  regression: boolean;
  results: EvidenceResult[];
  /** The waiver that applied, or the expired one that did not (with `expired: true`). */
  waiver?: Waiver & { expired: boolean };
}

/** The release's verdict: 0 qualified, 1 not qualified, 2 could not judge. */
export type Outcome = 'qualified' | 'not-qualified' | 'not-judged';

/** A qualification's result. */
export interface Qualification {
  release: string;
  baseline?: string;
  outcome: Outcome;
  exitCode: 0 | 1 | 2;
  /** One sentence: why this outcome. */
  summary: string;
  requirements: RequirementVerdict[];
  sut: SoftwareUnderTest;
  seed: number;
  /** ISO time the verdict was made. */
  judgedAt: string;
  /** Notes a reader must see: expired waivers ignored, evidence missing and why. */
  notes: string[];
}
