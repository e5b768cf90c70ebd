import { holds, measureLoad, type LoadPoint } from './fleet.ts';
import type { Measured } from './runner.ts';
import { largestPassing } from './search.ts';

/** How `maxRobotsAtRtf1` searches, and where it leaves what each fleet size measured. */
export interface RobotsAtRtf1Search {
  /** Fleet sizes to try, smallest first: the scan stops at the first that does not keep up. */
  candidates: readonly number[];
  seed: number;
  /** With every robot's edge agent and the cloud, judged once every agent answers. */
  agents: boolean;
  /** Each size tried is appended here, for the report. */
  loadPoints: LoadPoint[];
  log: (line: string) => void;
}

/**
 * The largest fleet of `candidates` whose every robot runs at RTF 1 within 5 % and every topic
 * within 5 % of its rate (`holds`): one search for the robots-only figure and the one with agents,
 * so both judge "keeps up" the same way.
 */
export function maxRobotsAtRtf1({
  candidates,
  seed,
  agents,
  loadPoints,
  log,
}: RobotsAtRtf1Search): Promise<Measured> {
  return largestPassing(
    candidates,
    async (robots) => {
      const point = await measureLoad(robots, 1, seed, { agents });
      loadPoints.push(point);
      log(
        `  ${robots} robots${agents ? ' with agents' : ''} at rtf 1: achieved rtf ${point.minAchievedRtf.toFixed(3)}–${point.maxAchievedRtf.toFixed(3)}, worst ${point.worst}`,
      );
      return holds(point);
    },
    log,
  );
}
