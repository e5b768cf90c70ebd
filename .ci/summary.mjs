// Prints the closing line CI reads, from Playwright's JSON reporter output.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/results.json';
let stats;
try {
  ({ stats } = JSON.parse(readFileSync(file, 'utf8')));
} catch (error) {
  console.error(`no test results in ${file}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = stats.expected + stats.flaky;
const failed = stats.unexpected;
console.log(`${passed} passed, ${failed} failed, ${stats.skipped} skipped`);
if (passed + failed === 0) process.exit(1);
