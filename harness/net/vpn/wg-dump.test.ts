import { expect, test } from '@playwright/test';
import { parseWgDump } from './index.ts';

// `wg show <if> dump`: the interface line (private key, public key, port, fwmark), then per peer:
// public key, preshared key, endpoint, allowed ips, latest handshake (s), rx, tx, keepalive.
const DUMP = [
  'cHJpdmF0ZQ==\taHViLXB1Yg==\t51820\toff',
  'cm9ib3QtMQ==\t(none)\t10.217.0.1:40981\t10.77.0.2/32\t1796382319\t628\t460\toff',
  'cm9ib3QtMg==\t(none)\t(none)\t10.77.0.3/32\t0\t0\t0\t1',
  '',
].join('\n');

test('wg dump: endpoint, handshake in ms, byte counters per peer; a peer never heard from has none', () => {
  const peers = parseWgDump(DUMP);
  expect([...peers.keys()]).toEqual(['cm9ib3QtMQ==', 'cm9ib3QtMg==']);
  expect(peers.get('cm9ib3QtMQ==')).toEqual({
    endpoint: '10.217.0.1:40981',
    latestHandshakeMs: 1_796_382_319_000,
    rxBytes: 628,
    txBytes: 460,
  });
  expect(peers.get('cm9ib3QtMg==')).toEqual({
    endpoint: undefined,
    latestHandshakeMs: 0,
    rxBytes: 0,
    txBytes: 0,
  });
  // The interface line is never taken for a peer (it carries the private key).
  expect(peers.has('cHJpdmF0ZQ==')).toBe(false);
});
