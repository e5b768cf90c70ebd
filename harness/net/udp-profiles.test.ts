import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { isUdpProfileName, parseUdpProfile } from './udp-profiles.ts';

test.describe('datagram link profiles', () => {
  test('the TCP profiles mean the same on a datagram link', () => {
    expect(parseUdpProfile('wifi-good').conditions).toEqual({ delayMs: 5, jitterMs: 2 });
    expect(parseUdpProfile('wifi-edge').conditions).toEqual({ delayMs: 120, jitterMs: 100, rateKbit: 480 });
    expect(parseUdpProfile('dead').conditions).toEqual({ down: true });
    expect(parseUdpProfile('clear').conditions).toEqual({});
  });

  test('loss, burst and dead zones by name', () => {
    expect(parseUdpProfile('loss-20').conditions).toEqual({ lossPct: 20 });
    expect(parseUdpProfile('loss-0.5').conditions).toEqual({ lossPct: 0.5 });
    expect(parseUdpProfile('burst').conditions.burst?.lossInBadPct).toBe(80);
    const zone = parseUdpProfile('dead-zone-2s');
    expect(zone.deadZoneMs).toBe(2000);
    expect(zone.conditions).toEqual({});
  });

  test('profiles combine with +: later fields win, a dead zone from any part applies', () => {
    const combined = parseUdpProfile('wifi-edge+loss-5+dead-zone-3s');
    expect(combined.conditions).toEqual({ delayMs: 120, jitterMs: 100, rateKbit: 480, lossPct: 5 });
    expect(combined.deadZoneMs).toBe(3000);
  });

  test('a bad name is refused with the grammar', () => {
    expect(() => parseUdpProfile('wifi-great')).toThrow(ConfigError);
    expect(() => parseUdpProfile('wifi-great')).toThrow(
      /'wifi-great' is not a datagram link profile \(clear, wifi-good/,
    );
    expect(() => parseUdpProfile('loss-120')).toThrow(/at most 100/);
    expect(() => parseUdpProfile('dead-zone-0s')).toThrow(/more than 0 s/);
    // A multi-phase TCP profile has no steady datagram equivalent.
    expect(isUdpProfileName('roaming-handover')).toBe(false);
    expect(isUdpProfileName('lte')).toBe(true);
  });
});
