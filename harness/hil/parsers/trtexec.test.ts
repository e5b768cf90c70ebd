import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { HilError } from '../types.ts';
import { parseTrtexecLog, requireValidTrtexec } from './trtexec.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../reference/hil/${name}`, import.meta.url), 'utf8');

const LINE = '[10/14/2024-09:13:04] [I] ';
const log = (...lines: string[]): string =>
  [
    '&&&& RUNNING TensorRT.trtexec [TensorRT v100500] [b18] # trtexec --loadEngine=m.engine',
    ...lines,
    '&&&& PASSED TensorRT.trtexec [TensorRT v100500] [b18] # trtexec --loadEngine=m.engine',
  ].join('\n');

test('TensorRT 10.5: every summary line and total, exactly', () => {
  const report = parseTrtexecLog(fixture('trtexec-10.5-passed.log'));
  expect(report.tensorrtVersion).toBe('10.5.0');
  expect(report.commandLine).toBe(
    '/usr/src/tensorrt/bin/trtexec --onnx=perception-cnn.onnx --fp16 --saveEngine=perception-cnn.fp16.engine --iterations=300 --duration=0 --warmUp=200 --exportTimes=export-times.json',
  );
  expect(report.outcome).toBe('passed');
  expect(report.throughputQps).toBe(491.804);
  expect(Object.keys(report.summaries)).toEqual([
    'Latency',
    'Enqueue Time',
    'H2D Latency',
    'GPU Compute Time',
    'D2H Latency',
  ]);
  const ps = (p90: number, p95: number, p99: number) => ({ '90': p90, '95': p95, '99': p99 });
  expect(report.summaries).toEqual({
    Latency: {
      min: 1.93627,
      max: 2.53398,
      mean: 2.00584,
      median: 1.98552,
      percentiles: ps(2.01645, 2.03494, 2.52191),
    },
    'Enqueue Time': {
      min: 0.178022,
      max: 0.658376,
      mean: 0.271055,
      median: 0.263331,
      percentiles: ps(0.297418, 0.31003, 0.616779),
    },
    'H2D Latency': {
      min: 0.1133,
      max: 0.150673,
      mean: 0.13061,
      median: 0.130524,
      percentiles: ps(0.138683, 0.140405, 0.148106),
    },
    'GPU Compute Time': {
      min: 1.80066,
      max: 2.38547,
      mean: 1.86219,
      median: 1.84292,
      percentiles: ps(1.87186, 1.8855, 2.38088),
    },
    'D2H Latency': {
      min: 0.00684318,
      max: 0.0113981,
      mean: 0.00896036,
      median: 0.00888284,
      percentiles: ps(0.0101905, 0.0104835, 0.0110889),
    },
  });
  expect(report.totals).toEqual({
    'Total Host Walltime': { value: 0.609999, unit: 's' },
    'Total GPU Compute Time': { value: 0.558656, unit: 's' },
  });
  expect(report.warnings).toEqual([
    '[TRT] Detected layernorm nodes in FP16.',
    expect.stringMatching(/^\[TRT\] Running layernorm after self-attention with FP16/),
    '* GPU compute time is unstable, with coefficient of variance = 4.97%.',
    '  If not already in use, locking GPU clock frequency or adding --useSpinWait may improve the stability.',
  ]);
  expect(report.errors).toEqual([]);
  expect(() => requireValidTrtexec(report)).not.toThrow();
});

test('TensorRT 8.6: End-to-End Host Latency and a single custom percentile', () => {
  const report = parseTrtexecLog(fixture('trtexec-8.6-passed.log'));
  expect(report.tensorrtVersion).toBe('8.6.2');
  expect(report.commandLine).toContain('--percentile=99');
  expect(report.outcome).toBe('passed');
  expect(report.throughputQps).toBe(483.537);
  expect(Object.keys(report.summaries)).toEqual([
    'Latency',
    'End-to-End Host Latency',
    'Enqueue Time',
    'H2D Latency',
    'GPU Compute Time',
    'D2H Latency',
  ]);
  expect(report.summaries['End-to-End Host Latency']).toEqual({
    min: 2.11271,
    max: 3.05242,
    mean: 2.2026,
    median: 2.19412,
    percentiles: { '99': 2.76481 },
  });
  expect(report.summaries['GPU Compute Time']).toEqual({
    min: 1.97678,
    max: 2.90296,
    mean: 2.0554,
    median: 2.04641,
    percentiles: { '99': 2.60242 },
  });
  expect(report.summaries['D2H Latency']!.percentiles).toEqual({ '99': 0.0170525 });
  expect(report.totals).toEqual({
    'Total Host Walltime': { value: 3.00287, unit: 's' },
    'Total GPU Compute Time': { value: 2.98444, unit: 's' },
  });
  expect(report.warnings).toHaveLength(2);
  expect(() => requireValidTrtexec(report)).not.toThrow();
});

test('the version code reads for both numbering schemes', () => {
  const version = (code: string) =>
    parseTrtexecLog(`&&&& RUNNING TensorRT.trtexec [TensorRT v${code}] # trtexec`).tensorrtVersion;
  expect(version('100500')).toBe('10.5.0');
  expect(version('101300')).toBe('10.13.0');
  expect(version('8601')).toBe('8.6.1');
  expect(version('8602')).toBe('8.6.2');
  expect(version('8001')).toBe('8.0.1');
  expect(parseTrtexecLog('&&&& RUNNING TensorRT.trtexec # trtexec').tensorrtVersion).toBeUndefined();
});

test('exponent-form numbers, odd percentiles and other scalars', () => {
  const report = parseTrtexecLog(
    log(
      `${LINE}=== Performance summary ===`,
      `${LINE}Throughput: 2.5E+03 qps`,
      `${LINE}H2D Latency: min = 1.2e-05 ms, max = 3.4E+02 ms, mean = 5e-1 ms, median = .5 ms, percentile(99.9%) = 1.25e+00 ms`,
      `${LINE}Total Host Walltime: 1.5e+01 s`,
      `${LINE}Total Queue Depth: 4 queries`,
    ),
  );
  expect(report.throughputQps).toBe(2500);
  expect(report.summaries['H2D Latency']).toEqual({
    min: 0.000012,
    max: 340,
    mean: 0.5,
    median: 0.5,
    percentiles: { '99.9': 1.25 },
  });
  expect(report.totals).toEqual({
    'Total Host Walltime': { value: 15, unit: 's' },
    'Total Queue Depth': { value: 4, unit: 'queries' },
  });
});

test('lines outside the Performance summary are not held to its format', () => {
  const report = parseTrtexecLog(
    log(
      `${LINE}Latency: this is the verbose explanation, not a number`,
      `${LINE}=== Performance summary ===`,
      `${LINE}Throughput: 100 qps`,
      `${LINE}Latency: min = 1 ms, max = 2 ms, mean = 1.5 ms, median = 1.5 ms, percentile(90%) = 2 ms`,
      `${LINE}GPU Compute Time: min = 1 ms, max = 2 ms, mean = 1.5 ms, median = 1.5 ms, percentile(90%) = 2 ms`,
      `${LINE}Explanations of the performance metrics are printed in the verbose logs.`,
      `${LINE}`,
      '[10/14/2024-09:13:04] [V] === Explanations of the performance metrics ===',
      '[10/14/2024-09:13:04] [V] Total Host Walltime: the host walltime from the first query to the last.',
    ),
  );
  expect(Object.keys(report.summaries)).toEqual(['Latency', 'GPU Compute Time']);
  expect(report.totals).toEqual({});
});

test('a summary line that does not parse is an error naming its line', () => {
  const good = fixture('trtexec-10.5-passed.log').split('\n');
  const at = good.findIndex((line) => line.includes('] GPU Compute Time: min ='));
  const bad = [...good];
  bad[at] = bad[at]!.replace('mean = 1.86219 ms', 'mean = 1.86.219 ms');
  expect(() => parseTrtexecLog(bad.join('\n'))).toThrow(HilError);
  expect(() => parseTrtexecLog(bad.join('\n'))).toThrow(
    new RegExp(`^trtexec log line ${at + 1}: cannot read 'mean = 1\\.86\\.219 ms'`),
  );

  const missingMedian = [...good];
  missingMedian[at] = missingMedian[at]!.replace('median = 1.84292 ms, ', '');
  expect(() => parseTrtexecLog(missingMedian.join('\n'))).toThrow(
    `trtexec log line ${at + 1}: summary needs min, max, mean and median`,
  );

  const unknown = [...good];
  unknown[at] = `${LINE}GPU Compute Time = 1.8 ms`;
  expect(() => parseTrtexecLog(unknown.join('\n'))).toThrow(
    `trtexec log line ${at + 1}: not a Performance summary line`,
  );

  const wrongUnit = [...good];
  wrongUnit[at] = wrongUnit[at]!.replace('min = 1.80066 ms', 'min = 1.80066 us');
  expect(() => parseTrtexecLog(wrongUnit.join('\n'))).toThrow(
    `line ${at + 1}: cannot read 'min = 1.80066 us'`,
  );
});

test('FAILED: the outcome, the [E] lines, and the message quoting the first', () => {
  const report = parseTrtexecLog(fixture('trtexec-failed.log'));
  expect(report.outcome).toBe('failed');
  expect(report.tensorrtVersion).toBe('10.5.0');
  expect(report.summaries).toEqual({});
  expect(report.errors[0]).toBe(
    '[TRT] IPluginRegistry::getCreator: Error Code 4: API Usage Error (Cannot find plugin: DeformConv2d, version: 1, namespace:.)',
  );
  expect(report.errors.slice(-4)).toEqual([
    'Failed to parse onnx file',
    'Parsing model failed',
    'Failed to create engine from model or file.',
    'Engine set up failed',
  ]);
  expect(report.errors).toHaveLength(9);
  expect(() => requireValidTrtexec(report)).toThrow(HilError);
  expect(() => requireValidTrtexec(report)).toThrow(
    'trtexec FAILED: [TRT] IPluginRegistry::getCreator: Error Code 4: API Usage Error (Cannot find plugin: DeformConv2d, version: 1, namespace:.)',
  );
});

test('a log cut inside the Performance summary is incomplete, and says so', () => {
  const report = parseTrtexecLog(fixture('trtexec-truncated.log'));
  expect(report.outcome).toBe('incomplete');
  expect(report.throughputQps).toBe(491.804);
  // The cut H2D line is not reported half-read, nor is it a format error.
  expect(Object.keys(report.summaries)).toEqual(['Latency', 'Enqueue Time']);
  expect(() => requireValidTrtexec(report)).toThrow(
    'trtexec incomplete: the log ends before &&&& PASSED/FAILED (truncated?)',
  );
});

test('a truncated log is still strict about the lines before the cut', () => {
  const lines = fixture('trtexec-truncated.log').split('\n');
  const at = lines.findIndex((line) => line.includes('] Latency: min ='));
  lines[at] = lines[at]!.replace('max = 2.53398 ms', 'max = ? ms');
  expect(() => parseTrtexecLog(lines.join('\n'))).toThrow(
    `trtexec log line ${at + 1}: cannot read 'max = ? ms'`,
  );
});

test('a PASSED run without a Performance summary is not valid', () => {
  const report = parseTrtexecLog(log(`${LINE}Skip inference: Enabled`));
  expect(report.outcome).toBe('passed');
  expect(() => requireValidTrtexec(report)).toThrow(
    'trtexec PASSED but its Performance summary is missing Throughput, Latency, GPU Compute Time',
  );
});

test('text without a RUNNING line is not a trtexec log', () => {
  expect(() => parseTrtexecLog('bash: trtexec: command not found\n')).toThrow(
    'not a trtexec log: no "&&&& RUNNING TensorRT.trtexec" line',
  );
  expect(() => parseTrtexecLog('')).toThrow(HilError);
});
