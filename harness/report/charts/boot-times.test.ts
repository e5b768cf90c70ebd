import { expect, test } from '@playwright/test';
import { assertWellFormedSvg, markItems, svgTexts } from '../../testing/svg.ts';
import { bootTimesChart, type RobotBoot } from './boot-times.ts';

test('every robot is counted in a bar, and the slowest are named', async () => {
  const boots: RobotBoot[] = Array.from({ length: 16 }, (_, i) => ({
    robot: `r${String(i + 1).padStart(2, '0')}`,
    ms: 900 + i * 10,
  }));
  boots.push({ robot: 'r17', ms: 4_200 });
  const svg = await bootTimesChart(boots);
  assertWellFormedSvg(svg);
  const bars = markItems(svg, 'boots');
  expect(bars).toHaveLength(5);
  const counted = bars.map((bar) => Number(/robots: (\d+)/.exec(bar)?.[1]));
  expect(counted.reduce((sum, n) => sum + n, 0)).toBe(17);
  expect(svgTexts(svg)).toEqual(expect.arrayContaining(['r17 4200 ms', 'r16 1050 ms', 'r15 1040 ms']));
  expect(svgTexts(svg)).not.toContain('r14 1030 ms');
});

test('a boot time that is not a number names the robot; no boots says "no data"', async () => {
  await expect(bootTimesChart([{ robot: 'r03', ms: Number.NaN }])).rejects.toThrow(
    'boots[0] (r03).ms must be a finite number, got NaN',
  );
  await expect(bootTimesChart([{ robot: 'r04', ms: -5 }])).rejects.toThrow(
    'boots[0] (r04).ms must be >= 0, got -5',
  );
  expect(svgTexts(await bootTimesChart([]))).toContain('no data: no robot booted');
});
