import { expect, test } from '@playwright/test';
import { measureCell, quantile, type ReceivedSample, type WrittenSample } from './measure.ts';

const MS = 1_000_000n;

/** 100 writes at 10 ms from t = 1000 ms; each arrives `latency(seq)` ms later, or not (null). */
function traffic(latency: (seq: number) => number | null): {
  written: WrittenSample[];
  received: ReceivedSample[];
} {
  const written: WrittenSample[] = [];
  const received: ReceivedSample[] = [];
  for (let seq = 0; seq < 100; seq++) {
    const sentNs = (1000n + BigInt(seq) * 10n) * MS;
    written.push({ seq, sentNs });
    const ms = latency(seq);
    if (ms !== null) received.push({ seq, sentNs, recvNs: sentNs + BigInt(ms) * MS });
  }
  return { written, received };
}

const WINDOW = { startNs: 1000n * MS, endNs: 2000n * MS };

test.describe('measuring a DDS cell from the receiving side', () => {
  test('a clean link: everything arrives, latency is what it was', () => {
    const { written, received } = traffic(() => 2);
    const m = measureCell(written, received, WINDOW);
    expect(m).toMatchObject({ published: 100, received: 100, deliveredRatio: 1, duplicates: 0 });
    expect(m.latencyMs).toEqual({ p50: 2, p99: 2, max: 2 });
    expect(m.longestGapMs).toBe(10);
    expect(m.ageP99Ms).toBeLessThanOrEqual(12);
  });

  test('loss lowers delivery; a silent stretch shows as the longest gap and as age', () => {
    // Samples 40..59 never arrive: 200 ms without news.
    const { written, received } = traffic((seq) => (seq >= 40 && seq < 60 ? null : 1));
    const m = measureCell(written, received, WINDOW);
    expect(m.deliveredRatio).toBeCloseTo(0.8, 5);
    expect(m.longestGapMs).toBe(210);
    expect(m.ageP99Ms).toBeGreaterThanOrEqual(200);
  });

  test('a stall that is delivered late (reliable after a dead zone) keeps delivery and shows latency and gap', () => {
    // 40..59 are held until t = 1700 ms, then all arrive.
    const { written, received } = traffic((seq) => (seq >= 40 && seq < 60 ? 1700 - (1000 + seq * 10) : 1));
    const m = measureCell(written, received, WINDOW);
    expect(m.deliveredRatio).toBe(1);
    expect(m.latencyMs.max).toBe(300);
    // Sample 60 (not held) arrives at 1601 ms: the longest silence is 1391 → 1601.
    expect(m.longestGapMs).toBe(210);
  });

  test('only the window counts, duplicates are counted once, and a silent end is a gap', () => {
    const { written, received } = traffic((seq) => (seq < 50 ? 1 : null));
    received.push({ ...received[3]!, recvNs: received[3]!.recvNs + 5n * MS });
    const m = measureCell(written, received, { startNs: 1200n * MS, endNs: 2000n * MS });
    expect(m.published).toBe(80);
    expect(m.received).toBe(30);
    expect(m.duplicates).toBe(0);
    expect(m.longestGapMs).toBe(2000 - 1491);
    const all = measureCell(written, received, WINDOW);
    expect(all.duplicates).toBe(1);
  });

  test('nothing published gives a ratio of 0, not NaN', () => {
    const m = measureCell([], [], WINDOW);
    expect(m.deliveredRatio).toBe(0);
    expect(m.latencyMs.p99).toBe(0);
  });

  test('quantile is nearest rank', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(quantile(values, 0.5)).toBe(50);
    expect(quantile(values, 0.99)).toBe(99);
    expect(quantile([], 0.5)).toBe(0);
  });
});
