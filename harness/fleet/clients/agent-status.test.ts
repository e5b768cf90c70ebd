/*
 * /edge_agent/status from the agent's account to the wire (ROS 2 form) and back: the agent's
 * encoder and the harness's reader agree, and the reader refuses every answer AgentStatus.srv
 * does not allow, naming the robot and the field.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { toStatusResponse, type AgentStatus } from '../../../protocol/agent-status.ts';
import { AgentStore } from '../../../reference/edge-agent/store/agent-store.ts';
import { AgentStatusFormatError, parseAgentStatus } from './agent-status.ts';

const T0 = 1_700_000_000_000;

/**
 * A status from a real store: two boots, the first with metrics evicted around its events (so
 * evicted seqs come in several ranges) and a clock that makes ages fractional.
 */
function realStatus(uploader: AgentStatus['uploader']): AgentStatus {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-agent-status-'));
  let clock = T0;
  const now = () => (clock += 137);
  const budgets = { metrics: 1_500, events: 1_000_000, blackbox: 1_000_000 };
  try {
    const first = AgentStore.open({ dir, budgets, now });
    for (let i = 0; i < 40; i++)
      first.take(i % 7 === 3 ? 'events' : 'metrics', 'robot', { i, pad: 'x'.repeat(40) });
    first.close();
    const store = AgentStore.open({ dir, budgets, now });
    store.take('metrics', 'robot', { i: 0 });
    store.take('blackbox', 'manifest', { key: 'r01/b2/1.mcap' });
    const buffers = store.counters();
    const status: AgentStatus = {
      robot_id: 'r01',
      boot_id: store.bootId,
      accounts: store.accounts(),
      buffers,
      bytes_sent: { metrics: 12_345, events: 678, blackbox: 0 },
      uploader,
      capturing: 1,
      backlog: buffers.metrics.pending + buffers.events.pending + buffers.blackbox.pending,
      drained: false,
    };
    store.close();
    return status;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const FRESH: AgentStatus['uploader'] = {
  consecutiveFailures: 0,
  lastError: null,
  lastSuccessAt: null,
  rejected: { metrics: 0, events: 0, blackbox: 0 },
};
const BUSY: AgentStatus['uploader'] = {
  consecutiveFailures: 3,
  lastError: 'cloud: 503 busy',
  lastSuccessAt: T0 + 5_000,
  rejected: { metrics: 2, events: 1, blackbox: 0 },
};

/** Every value anywhere in `value`, with its path. */
function leaves(value: unknown, path = ''): Array<[string, unknown]> {
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, v]) => leaves(v, `${path}.${key}`));
  return [[path, value]];
}

test('the sample holds what the wire must carry: several boots, evicted ranges, fractions', () => {
  const status = realStatus(BUSY);
  expect(status.accounts.map((a) => a.bootId)).toEqual(['b1', 'b2']);
  expect(status.accounts[0]!.evictedSeqs.metrics.length).toBeGreaterThan(1);
  expect(Number.isInteger(status.buffers.metrics.oldestAgeS)).toBe(false);
});

for (const [name, uploader] of [
  ['an agent that never uploaded', FRESH],
  ['an agent with failures and successes', BUSY],
] as const) {
  test(`the wire answer of ${name} has ROS field names, no null, and reads back as it was`, () => {
    const status = realStatus(uploader);
    const wire = toStatusResponse(status);
    for (const [path, value] of leaves(wire)) {
      expect(value, path).not.toBeNull();
      expect(value, path).not.toBeUndefined();
      for (const key of path.split('.').slice(1))
        if (!/^\d+$/.test(key)) expect(key, path).toMatch(/^(?!.*__)(?!.*_$)[a-z][a-z0-9_]*$/);
    }
    // Through JSON, as rosbridge carries it.
    expect(parseAgentStatus('r01', JSON.parse(JSON.stringify(wire)))).toEqual(status);
  });
}

/** Marks a field to take out of the answer. */
const DELETE = Symbol('delete');

/** Sets (or deletes) the field at a dotted path (`accounts.0.boot_id`) of a JSON answer. */
function put(answer: unknown, path: string, value: unknown): void {
  const keys = path.split('.');
  const last = keys.pop()!;
  let parent = answer as Record<string, unknown>;
  for (const key of keys) parent = parent[key] as Record<string, unknown>;
  if (value === DELETE) delete parent[last];
  else parent[last] = value;
}

test.describe('refuses an answer AgentStatus.srv does not allow, naming robot and field', () => {
  const cases: Array<[string, string, unknown, RegExp]> = [
    ['a null', 'uploader.last_error', null, /robot r07: .*uploader\.last_error: .*string/],
    ['a camelCase field', 'accounts.0.bootId', 'b1', /accounts\[0\]\.bootId: not a field/],
    ['a missing field', 'buffers.events.used_bytes', DELETE, /buffers\.events\.used_bytes/],
    ['a fraction in a uint', 'backlog', 1.5, /backlog: .*int/],
    ['a negative uint', 'bytes_sent.metrics', -1, /bytes_sent\.metrics/],
    ['a range as a pair', 'accounts.0.evicted_seqs.metrics.0', [1, 4], /evicted_seqs\.metrics\[0\]/],
    ['a reversed range', 'accounts.0.evicted_seqs.metrics.0', { first: 9, last: 4 }, /first > last/],
    ['the old camelCase answer', 'uploader', FRESH, /uploader\.\w+/],
  ];
  for (const [name, path, value, message] of cases) {
    test(name, () => {
      const answer: unknown = JSON.parse(JSON.stringify(toStatusResponse(realStatus(BUSY))));
      expect(() => parseAgentStatus('r07', answer)).not.toThrow();
      put(answer, path, value);
      expect(() => parseAgentStatus('r07', answer)).toThrow(AgentStatusFormatError);
      expect(() => parseAgentStatus('r07', answer)).toThrow(message);
    });
  }
});
