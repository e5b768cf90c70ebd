/** The device's clock state, read from what `nvpmodel -q` and `jetson_clocks --show` printed. */
import type { ClockState } from '../types.ts';
import { failure, firstLines, type ExecResult } from './remote.ts';

/** Clock state from `nvpmodel -q` and `jetson_clocks --show`; a failed command is said in details. */
export function clockState(nvpmodel: ExecResult, jetsonClocks: ExecResult): ClockState {
  const state: ClockState = { details: {} };
  if (nvpmodel.code === 0) {
    const mode = /NV Power Mode:\s*(\S+)/.exec(nvpmodel.stdout);
    if (mode) state.powerMode = mode[1];
    else state.details.nvpmodel = `no "NV Power Mode" in output: ${firstLines(nvpmodel.stdout, 2)}`;
  } else {
    state.details.nvpmodel = `unavailable, ${failure(nvpmodel)}`;
  }
  if (jetsonClocks.code !== 0) {
    state.details.jetson_clocks = `unavailable, ${failure(jetsonClocks)}`;
    return state;
  }
  // jetson_clocks pins each online CPU, the GPU and the EMC at its maximum: MinFreq == MaxFreq.
  const clocks = [...jetsonClocks.stdout.matchAll(/^(cpu\d+|GPU|EMC)\b(.*)$/gm)];
  let locked: boolean | undefined;
  for (const [, unit, rest] of clocks as unknown as Array<[string, string, string]>) {
    if (/Online=0/.test(rest)) continue;
    const min = /MinFreq=(\d+)/.exec(rest)?.[1];
    const max = /MaxFreq=(\d+)/.exec(rest)?.[1];
    const current = /CurrentFreq=(\d+)/.exec(rest)?.[1];
    if (min === undefined || max === undefined) continue;
    locked = (locked ?? true) && min === max;
    if (unit === 'cpu0') {
      const governor = /Governor=(\S+)/.exec(rest)?.[1];
      if (governor) state.details.cpu_governor = governor;
    }
    if (unit === 'cpu0' || unit === 'GPU' || unit === 'EMC') {
      state.details[`${unit.toLowerCase()}_freq`] = `min ${min} max ${max} current ${current ?? '?'}`;
    }
  }
  if (locked === undefined) state.details.jetson_clocks = 'no CPU/GPU/EMC frequencies in --show output';
  else state.clocksLocked = locked;
  return state;
}
