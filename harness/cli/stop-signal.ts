/**
 * The first Ctrl-C (SIGINT) or SIGTERM of a long command: announce it and abort `signal`, so the
 * command finishes the work under way and reports it instead of dying mid-step. Later signals are
 * swallowed until `release()`, so a second Ctrl-C cannot cut that finishing short.
 */
export function stopOnSignal(announcement: string): { signal: AbortSignal; release(): void } {
  const stopping = new AbortController();
  const onSignal = (): void => {
    if (stopping.signal.aborted) return;
    console.error(announcement);
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: stopping.signal,
    release() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
