// Prints the closing lines CI reads, from Playwright's JSON reporter output: known gaps (tests
// marked test.fail that failed) apart, then "N passed, N failed, N skipped" last. The counting is
// harness/report/ci-summary.ts, tested beside it; tsx's loader runs it without a build step.
import { readFileSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const { summarize, summaryLines } = await import('../harness/report/ci-summary.ts');

const file = process.argv[2] ?? 'reports/results.json';
let summary;
try {
  summary = summarize(JSON.parse(readFileSync(file, 'utf8')));
} catch (error) {
  console.error(`no test results in ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
for (const line of summaryLines(summary)) console.log(line);
if (summary.passed + summary.failed === 0) process.exit(1);
