import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Table from 'cli-table3';
import { ConfigError } from '../core/errors.ts';
import { parseSeed, runSeed } from '../core/seed.ts';
import { redactStrings } from '../core/redact.ts';
import { redactSecrets } from '../core/secrets.ts';
import {
  contractForModel,
  ddsDrillsAvailability,
  FULL_MATRIX_PROFILES,
  loadQosContract,
  plotCells,
  runQosMatrix,
  type QosMatrixResult,
} from '../qos/index.ts';
import { parseCount } from '../core/config.ts';
import { stopOnSignal } from './stop-signal.ts';
import { qosMatrixChart } from '../report/charts/index.ts';

/** `fleetdrill qos` options as commander hands them over. */
export interface QosFlags {
  contract?: string;
  model: string;
  profiles?: string;
  topics?: string;
  sweep?: string;
  path: string;
  lanes: string;
  measureMs: string;
  seed?: string;
  out: string;
  json?: boolean;
}

function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

function printTable(result: QosMatrixResult): void {
  const table = new Table({
    head: [
      'topic',
      'QoS',
      'profile',
      'delivered',
      'p50 / p99 / max ms',
      'longest gap',
      'rexmit B',
      'verdict',
    ],
  });
  for (const cell of result.cells) {
    const m = cell.measurement;
    table.push([
      cell.topic + (cell.variant === 'sweep' ? ' (sweep)' : ''),
      `${cell.reliability} ${cell.history}`,
      cell.profile,
      m ? `${percent(m.deliveredRatio)} (${m.received}/${m.published})` : cell.incompatible.join(', ') || '-',
      m
        ? `${m.latencyMs.p50.toFixed(1)} / ${m.latencyMs.p99.toFixed(1)} / ${m.latencyMs.max.toFixed(0)}`
        : '-',
      m ? `${m.longestGapMs.toFixed(0)} ms` : '-',
      cell.retransmitBytes === null ? '-' : String(cell.retransmitBytes),
      cell.judgement.verdict,
    ]);
  }
  console.log(table.toString());
}

/**
 * Sweeps a robot model's QoS contract over real DDS (Cyclone DDS between two network
 * namespaces) and judges every topic. Writes `qos-matrix.json` and `qos-matrix.svg` into --out.
 * Exit code: 0 every topic met its contract, 1 one did not (or an error finding stands),
 * 2 could not judge (a cell could not be measured, or the machine cannot run real DDS).
 */
export async function qos(flags: QosFlags): Promise<number> {
  const contract = flags.contract ? loadQosContract(resolve(flags.contract)) : contractForModel(flags.model);
  if (flags.path !== 'relay' && flags.path !== 'direct') {
    throw new ConfigError('--path', `must be relay or direct, got '${flags.path}'`);
  }
  const seed = flags.seed === undefined ? runSeed() : parseSeed(flags.seed, '--seed');
  const available = await ddsDrillsAvailability();
  if (!available.ok) {
    console.error(`fleetdrill qos: cannot run real DDS here: ${available.missing}`);
    return 2;
  }
  const profiles = list(flags.profiles) ?? FULL_MATRIX_PROFILES;
  console.error(
    `fleetdrill qos: ${contract.model} (${contract.source}) over ${profiles.join(', ')}, ${flags.path} path, seed ${seed} (replay with --seed ${seed})`,
  );
  const stopping = stopOnSignal('fleetdrill qos: stopping once the cells under way finish');
  try {
    const result = await runQosMatrix({
      contract,
      profiles,
      topics: list(flags.topics),
      sweepTopics: list(flags.sweep),
      seed,
      path: flags.path,
      lanes: parseCount(flags.lanes, '--lanes', 1, 8),
      measureMs: parseCount(flags.measureMs, '--measure-ms', 500, 600_000),
      signal: stopping.signal,
      onCell: (cell, done, total) =>
        console.error(
          `[${done}/${total}] ${cell.topic} ${cell.reliability} ${cell.history} on ${cell.profile}: ${cell.judgement.verdict}` +
            (cell.measurement ? `, ${percent(cell.measurement.deliveredRatio)} delivered` : '') +
            (cell.judgement.verdict === 'pass' ? '' : ` (${cell.judgement.reasons.join('; ')})`),
        ),
    });
    mkdirSync(flags.out, { recursive: true });
    writeFileSync(
      join(flags.out, 'qos-matrix.json'),
      JSON.stringify(redactStrings(result, redactSecrets), null, 2),
    );
    writeFileSync(
      join(flags.out, 'qos-matrix.svg'),
      await qosMatrixChart(plotCells(result), `QoS matrix: ${contract.model}, seed ${seed}`),
    );
    if (flags.json) {
      console.log(JSON.stringify(result));
    } else {
      printTable(result);
      for (const finding of result.findings) console.log(`${finding.severity}: ${finding.message}`);
      for (const topic of result.topics) {
        console.log(
          `${topic.topic}: ${topic.verdict}${topic.reasons.length ? ` (${topic.reasons.join('; ')})` : ''}`,
        );
      }
      console.log(
        `${result.verdict.toUpperCase()}: ${result.cells.length} cells in ${(result.wallMs / 1000).toFixed(0)} s` +
          (result.skipped ? `, ${result.skipped} not run (stopped)` : '') +
          `; matrix in ${join(flags.out, 'qos-matrix.svg')}`,
      );
    }
    return result.verdict === 'pass' ? 0 : result.verdict === 'fail' ? 1 : 2;
  } finally {
    stopping.release();
  }
}
