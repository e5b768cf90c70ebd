export { announceReady, watchLifeline } from './harness-link.ts';
export { reportProcessWarnings } from './process-warnings.ts';
