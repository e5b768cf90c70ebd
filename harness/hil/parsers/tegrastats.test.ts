import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { HilError } from '../types.ts';
import { parseTegrastats, parseTegrastatsLine } from './tegrastats.ts';

const fixture = (name: string): string =>
  readFileSync(new URL(`../../../reference/hil/${name}`, import.meta.url), 'utf8');
const lineOf = (name: string, n: number): string => fixture(name).split('\n')[n - 1]!;

test('JetPack 5 (AGX Xavier): off cores, CPU@ temperatures, unitless cur/avg rails', () => {
  const samples = parseTegrastats(fixture('tegrastats-jp5.log'));
  expect(samples).toHaveLength(12);
  const busy = samples[2]!;
  expect(busy).toEqual({
    ram: { usedMb: 3398, totalMb: 31920 },
    cpus: [
      { loadPct: 79, mhz: 1420 },
      { loadPct: 22, mhz: 1420 },
      { loadPct: 24, mhz: 1420 },
      { loadPct: 33, mhz: 1420 },
      null,
      null,
      null,
      null,
    ],
    gpu: { loadPct: 98, mhz: 905 },
    temperaturesC: {
      ao: 36.937,
      gpu: 41.437,
      tdiode: 40.062,
      pmic: 50,
      aux: 36.5,
      cpu: 39.531,
      thermal: 38.875,
      tboard: 35,
    },
    // Xavier's rails are named GPU, CPU, SOC... as are its thermal zones; rails keep their case.
    powerMw: {
      GPU: { current: 3781, average: 1260 },
      CPU: { current: 620, average: 410 },
      SOC: { current: 1899, average: 1553 },
      CV: { current: 0, average: 0 },
      VDDRQ: { current: 1051, average: 657 },
      SYS5V: { current: 4407, average: 3435 },
    },
  });
  expect(busy.t).toBeUndefined();
  // The GPU zone reads -256C while the GPU is power-gated, before the run.
  expect(samples[0]!.temperaturesC.gpu).toBeNull();
  expect(samples[0]!.gpu).toEqual({ loadPct: 0, mhz: 318 });
});

test('JetPack 6 (Orin NX): GR3D_FREQ with one clock, lower-case sensors, mW rails', () => {
  const samples = parseTegrastats(fixture('tegrastats-jp6.log'));
  expect(samples).toHaveLength(12);
  const busy = samples[2]!;
  expect(busy.ram).toEqual({ usedMb: 5224, totalMb: 15656 });
  expect(busy.cpus).toHaveLength(8);
  expect(busy.cpus[0]).toEqual({ loadPct: 65, mhz: 1984 });
  expect(busy.gpu).toEqual({ loadPct: 94, mhz: 918 });
  expect(busy.temperaturesC).toEqual({
    cpu: 46.031,
    soc2: 44.031,
    soc0: 44.593,
    gpu: 44.718,
    tj: 46.687,
    soc1: 44.312,
  });
  expect(busy.powerMw).toEqual({
    VDD_IN: { current: 12497, average: 7040 },
    VDD_CPU_GPU_CV: { current: 5241, average: 2155 },
    VDD_SOC: { current: 2657, average: 1820 },
  });
  expect(samples[0]!.temperaturesC.gpu).toBeNull();
  expect(samples.slice(2).every((s) => typeof s.temperaturesC.gpu === 'number')).toBe(true);
});

test('JetPack 7 (AGX Orin): timestamp, one clock per GPC, temperature pairs, cur/avg/peak rails', () => {
  const samples = parseTegrastats(fixture('tegrastats-jp7.log'));
  expect(samples).toHaveLength(12);
  const first = samples[0]!;
  expect(first.t).toBe(Date.UTC(2026, 6, 25, 9, 8, 28));
  expect(first.gpu).toEqual({ loadPct: 0, mhz: 0 });
  expect(first.temperaturesC).toEqual({ cpu: 52.937, soc0: 49.5, gpu: null, tj: 53.187 });
  expect(samples.map((s) => s.t! - first.t!)).toEqual(Array.from({ length: 12 }, (_, i) => i * 1000));

  const busy = samples[4]!;
  expect(busy.gpu).toEqual({ loadPct: 97, mhz: 1300 });
  expect(busy.cpus).toHaveLength(12);
  expect(busy.temperaturesC).toEqual({ cpu: 54.437, soc0: 51, gpu: 49.093, tj: 54.687 });
  expect(busy.powerMw).toEqual({
    VDD_GPU_SOC: { current: 10151, average: 7467, peak: 11331 },
    VDD_CPU_CV: { current: 3112, average: 2309, peak: 3545 },
    VIN_SYS_5V0: { current: 5743, average: 4946, peak: 5743 },
  });
  expect(samples[5]!.cpus[11]).toBeNull();
  expect(samples[5]!.cpus[10]).toEqual({ loadPct: 21, mhz: 2201 });
});

test("hil.md's JetPack 7 example line", () => {
  const sample = parseTegrastatsLine(
    '07-25-2026 09:08:28 RAM 20642/62817MB (lfb 1x2MB) CPU [23%@2201,10%@2201] EMC_FREQ 3%@3199 GR3D_FREQ 12%@[1300,1300] cpu@52.968C/52.968C soc0@49.531C/49.531C gpu@47.625C/47.625C VDD_GPU_SOC 5139mW/5139mW/5139mW VDD_CPU_CV 3268mW/3268mW/3268mW VIN_SYS_5V0 5500mW/5500mW/5500mW',
  );
  expect(sample.cpus).toEqual([
    { loadPct: 23, mhz: 2201 },
    { loadPct: 10, mhz: 2201 },
  ]);
  expect(sample.gpu).toEqual({ loadPct: 12, mhz: 1300 });
  expect(sample.temperaturesC).toEqual({ cpu: 52.968, soc0: 49.531, gpu: 47.625 });
  expect(sample.powerMw.VDD_GPU_SOC).toEqual({ current: 5139, average: 5139, peak: 5139 });
});

test('without root: loads without clocks; cores without clocks', () => {
  const sample = parseTegrastatsLine(
    'RAM 2448/30536MB (lfb 6733x4MB) SWAP 0/15268MB (cached 0MB) CPU [2%,off,1%@1190] EMC_FREQ 0% GR3D_FREQ 0% CPU@41.375C VDD_GPU_SOC 1234/1234',
  );
  expect(sample.cpus).toEqual([{ loadPct: 2, mhz: null }, null, { loadPct: 1, mhz: 1190 }]);
  expect(sample.gpu).toEqual({ loadPct: 0, mhz: null });
  expect(sample.temperaturesC).toEqual({ cpu: 41.375 });
  expect(sample.powerMw).toEqual({ VDD_GPU_SOC: { current: 1234, average: 1234 } });
});

test('blank lines are skipped; a line that is not tegrastats names its line number', () => {
  const good = lineOf('tegrastats-jp6.log', 1);
  expect(parseTegrastats(`\n${good}\n\n${good}\n`)).toHaveLength(2);
  expect(() => parseTegrastats(`${good}\n\nsudo: tegrastats: command not found\n`)).toThrow(HilError);
  expect(() => parseTegrastats(`${good}\n\nsudo: tegrastats: command not found\n`)).toThrow(
    /^tegrastats line 3: not tegrastats output \(expected it to begin with RAM <used>\/<total>MB\): 'sudo: tegrastats: command not found'$/,
  );
  expect(() => parseTegrastatsLine('RAM 20642/62817 CPU [1%@729]')).toThrow(
    /^tegrastats: not tegrastats output/,
  );
});

test('a malformed field that a sample reports is an error naming the line and field', () => {
  const text = fixture('tegrastats-jp7.log').split('\n');
  const broken = (n: number, from: string, to: string): string => {
    const copy = [...text];
    copy[n - 1] = copy[n - 1]!.replace(from, to);
    return copy.join('\n');
  };
  expect(() => parseTegrastats(broken(4, 'CPU [', 'CPU [x%,'))).toThrow(
    /^tegrastats line 4: bad CPU field '\[x%,/,
  );
  expect(() => parseTegrastats(broken(6, 'GR3D_FREQ 96%', 'GR3D_FREQ ninety'))).toThrow(
    /^tegrastats line 6: bad GR3D_FREQ 'ninety@\[1300,1300\]'/,
  );
  expect(() => parseTegrastats(broken(2, 'soc0@', 'soc0@hot'))).toThrow(
    /^tegrastats line 2: bad temperature 'soc0@hot/,
  );
  expect(() => parseTegrastats(broken(9, 'VDD_CPU_CV ', 'VDD_CPU_CV 12W/'))).toThrow(
    /^tegrastats line 9: bad power rail VDD_CPU_CV '12W\//,
  );
  expect(() => parseTegrastats(broken(1, '07-25-2026', '13-25-2026'))).toThrow(
    /^tegrastats line 1: bad timestamp/,
  );
});
