/** Where a fleet's bring-up stands: every robot is booting, ready or failed. */
export interface BringUpCounts {
  robots: number;
  ready: number;
  booting: number;
  failed: number;
  /** Since the bring-up began. */
  ms: number;
}

/** How often a bring-up reports while it changes: a live line, not a flood for 500 robots. */
const REPORT_INTERVAL_MS = 1_000;

/**
 * Counts a fleet's robots as they boot and reports the counts at most once per interval, and only
 * when they changed, so a user watching 500 robots come up sees progress rather than silence.
 */
export class BringUpProgress {
  private ready = 0;
  private booting = 0;
  private failed = 0;
  private lastReported = '';
  private readonly startedAt: number;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly robots: number,
    private readonly report: (counts: BringUpCounts) => void,
    private readonly clock: () => number = () => performance.now(),
    intervalMs = REPORT_INTERVAL_MS,
  ) {
    this.startedAt = clock();
    this.timer = setInterval(() => this.reportIfChanged(), intervalMs);
    // A bring-up that hangs is ended by its deadlines, not kept alive by its progress line.
    this.timer.unref();
  }

  /** Wraps one robot's boot: counted as booting when it starts, then as ready or failed. */
  track<A extends unknown[], T>(boot: (...args: A) => Promise<T>): (...args: A) => Promise<T> {
    return async (...args) => {
      this.booting++;
      try {
        const result = await boot(...args);
        this.ready++;
        return result;
      } catch (error) {
        this.failed++;
        throw error;
      } finally {
        this.booting--;
      }
    };
  }

  /** The counts now. */
  get counts(): BringUpCounts {
    return {
      robots: this.robots,
      ready: this.ready,
      booting: this.booting,
      failed: this.failed,
      ms: Math.round(this.clock() - this.startedAt),
    };
  }

  /** Stops reporting, with a last report of the final counts when they changed. */
  finish(): void {
    clearInterval(this.timer);
    this.reportIfChanged();
  }

  private reportIfChanged(): void {
    const counts = this.counts;
    const key = `${counts.ready}/${counts.booting}/${counts.failed}`;
    if (key === this.lastReported) return;
    this.lastReported = key;
    this.report(counts);
  }
}

/** `12/50 ready, 37 booting, 1 failed (4.2 s)`: the live line of a bring-up. */
export function describeBringUp(counts: BringUpCounts): string {
  const failed = counts.failed ? `, ${counts.failed} failed` : '';
  return `${counts.ready}/${counts.robots} ready, ${counts.booting} booting${failed} (${(counts.ms / 1000).toFixed(1)} s)`;
}
