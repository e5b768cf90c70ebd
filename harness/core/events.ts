import { appendFileSync } from 'node:fs';

/**
 * Every side effect in a run, as one typed union keyed by `kind`. The bus feeds the live
 * progress view, the report and the replay log; `t` is wall-clock milliseconds since the epoch.
 */
export type FleetEvent =
  | { kind: 'run-seed'; seed: number }
  | { kind: 'fleet-starting'; robots: number; backend: string; world: string; rtf: number }
  | { kind: 'fleet-ready'; robots: number; ms: number }
  | { kind: 'fleet-progress'; robots: number; ready: number; booting: number; failed: number; ms: number }
  | { kind: 'fleet-stopped'; robots: number }
  | { kind: 'robot-booting'; robot: string }
  | { kind: 'robot-ready'; robot: string; rosbridge: string; ms: number }
  | { kind: 'robot-died'; robot: string; exit: string }
  | { kind: 'power-cut'; robot: string; injectedAt?: string }
  | { kind: 'power-cut-armed'; robot: string; at: string; afterBytes: number }
  | { kind: 'power-cuts-disarmed'; robot: string }
  | { kind: 'robot-frozen'; robot: string }
  | { kind: 'robot-thawed'; robot: string }
  | { kind: 'network-disconnected'; robot: string }
  | { kind: 'network-reconnected'; robot: string }
  | { kind: 'power-on'; robot: string }
  | { kind: 'robot-clock'; robot: string; at: string }
  | { kind: 'robot-shutdown'; robot: string }
  | { kind: 'ros-disconnected'; robot: string; url: string }
  | { kind: 'ros-reconnected'; robot: string; url: string; downMs: number }
  | { kind: 'topic-stall'; robot: string; topic: string; ms: number }
  | { kind: 'fault-applied'; robot: string; link: string; profile: string; reason: string }
  | { kind: 'fault-cleared'; robot: string; link: string; reason: string }
  | { kind: 'link-redirected'; robot: string; link: string; upstream: string; reason: string }
  | { kind: 'link-restored'; robot: string; link: string; upstream: string; reason: string }
  | { kind: 'dead-zone-entered'; robot: string; x: number; y: number; rssiDbm: number | null }
  | { kind: 'dead-zone-left'; robot: string; x: number; y: number; rssiDbm: number; afterMs: number }
  | { kind: 'link-quality'; robot: string; profile: string; rssiDbm: number | null; ap: string | null }
  | { kind: 'cloud-ready'; url: string; mqtt: string }
  | { kind: 'cloud-restarted'; crash: boolean; downMs: number }
  | { kind: 'cloud-died'; exit: string }
  | { kind: 'ota-artifact'; id: string; name: string; version: string; size: number }
  | { kind: 'ota-deployment'; id: string; name: string; artifactId: string; robots: number }
  | { kind: 'ota-state'; robot: string; deploymentId: string; state: string; status: string | null };

/** An event as recorded, with its time. */
export type RecordedEvent = FleetEvent & { t: number };

type Listener = (event: RecordedEvent) => void;

/** One bus per run: keeps the history, fans out to listeners, optionally appends JSON lines. */
export class EventBus {
  private readonly listeners = new Set<Listener>();
  private readonly history: RecordedEvent[] = [];

  constructor(private readonly logFile?: string) {}

  emit(event: FleetEvent): void {
    const recorded: RecordedEvent = { t: Date.now(), ...event };
    this.history.push(recorded);
    if (this.logFile) appendFileSync(this.logFile, `${JSON.stringify(recorded)}\n`);
    for (const listener of this.listeners) {
      // A broken listener (say, a progress view) must not break the run.
      try {
        listener(recorded);
      } catch {
        /* ignored on purpose */
      }
    }
  }

  /** Subscribes; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Events recorded at or after `since` (ms since the epoch). */
  since(since: number): RecordedEvent[] {
    return this.history.filter((event) => event.t >= since);
  }
}
