/**
 * Last-resort cleanup when the process exits without running its teardowns (an uncaught error,
 * process.exit from a signal handler). Only synchronous work can run here, so callers register
 * things like "SIGKILL this process group" and "rm -rf this temp dir".
 */
const actions = new Set<() => void>();
let installed = false;

/** Registers a synchronous action for process exit; returns the function that unregisters it. */
export function onProcessExit(action: () => void): () => void {
  if (!installed) {
    installed = true;
    process.once('exit', () => {
      for (const run of actions) {
        try {
          run();
        } catch {
          /* best effort: the process is going away */
        }
      }
    });
  }
  actions.add(action);
  return () => actions.delete(action);
}
