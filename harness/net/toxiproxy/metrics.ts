import type { Stream } from './toxic-spec.ts';

/** Byte counters of one proxy, one direction and one listener/upstream pair. */
export interface ByteCounter {
  received: number;
  sent: number;
}

interface Series {
  labels: { direction: Stream; listener: string; proxy: string; upstream: string };
  counter: ByteCounter;
}

const METRICS = [
  ['received', 'toxiproxy_proxy_received_bytes_total', 'The total bytes received on a given proxy link'],
  ['sent', 'toxiproxy_proxy_sent_bytes_total', 'The total bytes sent on a given proxy link'],
] as const;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/**
 * Toxiproxy's proxy metrics. Like Prometheus counters, a series outlives a change of listener
 * or upstream (which starts a new one) and the deletion of its proxy.
 */
export class ProxyMetrics {
  private readonly series = new Map<string, Series>();

  /** The counter for these labels, created on first use. */
  counter(proxy: string, listener: string, upstream: string, direction: Stream): ByteCounter {
    const key = JSON.stringify([proxy, listener, upstream, direction]);
    let entry = this.series.get(key);
    if (!entry) {
      entry = { labels: { direction, listener, proxy, upstream }, counter: { received: 0, sent: 0 } };
      this.series.set(key, entry);
    }
    return entry.counter;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const lines: string[] = [];
    for (const [field, name, help] of METRICS) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const { labels, counter } of this.series.values()) {
        const text = Object.entries(labels)
          .map(([label, value]) => `${label}="${escapeLabel(value)}"`)
          .join(',');
        lines.push(`${name}{${text}} ${counter[field]}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
