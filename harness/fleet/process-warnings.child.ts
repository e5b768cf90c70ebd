/**
 * Test child for process-warnings.test.ts: a process that reports its warnings as the robot host
 * and edge agent do, then (with `leak`) piles abort listeners on one long-lived signal, the
 * pattern that made the edge agent warn.
 */
import { reportProcessWarnings } from '../../reference/service/index.ts';

reportProcessWarnings('edge-agent');
const stop = new AbortController();
const listeners = process.argv.includes('leak') ? 12 : 5;
for (let i = 0; i < listeners; i++) stop.signal.addEventListener('abort', () => {});
// Node emits the warning on a later tick: stay up long enough for it.
setTimeout(() => {}, 100);
