export { announceReady, watchLifeline } from './harness-link.ts';
export { warnUnlessLoopback } from './listen-warning.ts';
export { reportProcessWarnings } from './process-warnings.ts';
