import { expect, test } from '@playwright/test';
import { isLoopbackAddress, nonLoopbackWarning, PRIVATE_NETNS_ENV } from '../../protocol/listen-address.ts';
import { loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { dialAddress, LISTEN_ADDRESS_ENV, parseListenAddress } from './listen-address.ts';

test('loopback is 127.0.0.0/8, ::1 in any spelling, localhost and IPv4-mapped loopback; nothing else', () => {
  for (const host of [
    '127.0.0.1',
    '127.3.2.1',
    '::1',
    '0:0:0:0:0:0:0:1',
    '[::1]',
    'localhost',
    '::ffff:127.0.0.1',
  ])
    expect(isLoopbackAddress(host), host).toBe(true);
  for (const host of ['0.0.0.0', '::', '', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', '::2', 'robot.local'])
    expect(isLoopbackAddress(host), host).toBe(false);
});

test('a bind beyond loopback warns, naming who, what and where; loopback and a private namespace do not', () => {
  expect(nonLoopbackWarning('robot-host r01', 'rosbridge', '0.0.0.0', {})).toBe(
    "robot-host r01: warning: listening beyond loopback, as asked: rosbridge on 0.0.0.0 (every interface); other machines on this host's networks can reach it (without the address, it stays on 127.0.0.1)",
  );
  expect(nonLoopbackWarning('fleet-cloud', 'the HTTP API', '192.168.7.20', {})).toContain(
    'the HTTP API on 192.168.7.20;',
  );
  expect(nonLoopbackWarning('fleet-cloud', 'the HTTP API', '127.0.0.1', {})).toBeUndefined();
  expect(
    nonLoopbackWarning('fleet-cloud', 'the HTTP API', '0.0.0.0', { [PRIVATE_NETNS_ENV]: '1' }),
  ).toBeUndefined();
});

test('a listen address is an IPv4 address; anything else names the field', () => {
  expect(parseListenAddress(' 0.0.0.0 ', '--listen-address')).toBe('0.0.0.0');
  for (const bad of ['::', 'lan', '256.1.1.1', ''])
    expect(() => parseListenAddress(bad, '--listen-address'), bad).toThrow(
      new ConfigError(
        '--listen-address',
        `must be an IPv4 address (127.0.0.1, the default; 0.0.0.0 for every interface; or one of this machine's), got '${bad}'`,
      ),
    );
  expect(dialAddress('0.0.0.0')).toBe('127.0.0.1');
  expect(dialAddress('192.168.7.20')).toBe('192.168.7.20');
});

test('the environment sets the listen address the workers start fleets with, checked once', () => {
  const cwd = '/nonexistent/fleetdrill-config';
  expect(loadConfig({}, cwd).fleet.listenAddress).toBeUndefined();
  expect(loadConfig({ [LISTEN_ADDRESS_ENV]: '0.0.0.0' }, cwd).fleet.listenAddress).toBe('0.0.0.0');
  expect(() => loadConfig({ [LISTEN_ADDRESS_ENV]: 'everywhere' }, cwd)).toThrow(
    /^FLEETDRILL_LISTEN_ADDRESS must be an IPv4 address/,
  );
});
