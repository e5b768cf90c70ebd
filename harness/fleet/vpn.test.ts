/*
 * The fleet's `vpn` option is checked before anything starts: each bad setting fails naming it.
 */
import { expect, test } from '@playwright/test';
import { ConfigError } from '../core/errors.ts';
import { EventBus, type RecordedEvent } from '../core/events.ts';
import type { VpnRobot } from '../net/vpn/index.ts';
import { planVpn, withUnderlayEvents, type FleetVpnOption } from './vpn.ts';
import { parseSs } from './vpn-probes.ts';

const FLEET = { robotIds: ['r01', 'r02'], backend: 'embedded', telemetry: true, listenAddress: '127.0.0.1' };

test('off by default; true tunnels every robot', () => {
  expect(planVpn(undefined, FLEET)).toBeUndefined();
  expect(planVpn(false, FLEET)).toBeUndefined();
  expect([...planVpn(true, FLEET)!.robots]).toEqual(['r01', 'r02']);
  const some = planVpn({ robots: ['r02'], keepaliveS: 5, natUdpTimeoutS: 10 }, FLEET)!;
  expect([...some.robots]).toEqual(['r02']);
  expect(some).toMatchObject({ keepaliveS: 5, natUdpTimeoutS: 10 });
});

test('each bad setting fails naming it', () => {
  const cases: Array<[string, FleetVpnOption, Partial<typeof FLEET>]> = [
    ['vpn runs on the embedded backend only, not on docker', true, { backend: 'docker' }],
    ['vpn tunnels the agent', true, { telemetry: false }],
    ['vpn the hub exposes', true, { listenAddress: '10.0.0.5' }],
    ["vpn.robots 'r09' is not in this fleet", { robots: ['r09'] }, {}],
    ['vpn.robots must list at least one', { robots: [] }, {}],
    ['vpn.keepaliveS must be a whole number', { keepaliveS: 2.5 }, {}],
    ['vpn.natUdpTimeoutS must be a whole number', { natUdpTimeoutS: -1 }, {}],
    ['vpn.keepalive is not an option', { keepalive: 3 } as unknown as FleetVpnOption, {}],
    ['vpn must be true, false', 'yes' as unknown as FleetVpnOption, {}],
  ];
  for (const [message, option, fleet] of cases) {
    let thrown: unknown;
    try {
      planVpn(option, { ...FLEET, ...fleet });
    } catch (error) {
      thrown = error;
    }
    expect(thrown, message).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message, message).toContain(message);
  }
});

test('parseSs keeps the local ends of connections to one peer, and only those', () => {
  const output = [
    '0      0         10.77.0.2:51234      10.77.0.1:40001',
    '0      0         10.77.0.2:51236      10.77.0.1:40001',
    '0      0         127.0.0.1:9090       127.0.0.1:40444',
    '0      0         10.77.0.2:51240      10.77.0.1:40002',
    '',
  ].join('\n');
  expect(parseSs(output, '10.77.0.1:40001')).toEqual(['10.77.0.2:51234', '10.77.0.2:51236']);
  expect(parseSs(output, '10.77.0.1:9')).toEqual([]);
});

test('underlay faults are on the run events, so the telemetry oracles count them as disturbances', async () => {
  const calls: string[] = [];
  const done = (what: string) => () => Promise.resolve(void calls.push(what));
  const robot = {
    id: 'r04',
    underlay: {
      proxyName: 'vpn-r04',
      deadZone: done('dead'),
      clear: done('clear'),
      setConditions: done('set'),
    },
  } as unknown as VpnRobot;
  const events = new EventBus();
  const seen: RecordedEvent[] = [];
  events.on((event) => seen.push(event));
  const wrapped = withUnderlayEvents(robot, events);
  await wrapped.underlay.clear();
  await wrapped.underlay.deadZone();
  await wrapped.underlay.clear();
  await wrapped.underlay.setConditions({ lossPct: 5 });
  await wrapped.underlay.clear();
  expect(calls).toEqual(['clear', 'dead', 'clear', 'set', 'clear']);
  expect(seen.map((event) => `${event.kind} ${'profile' in event ? event.profile : ''}`.trim())).toEqual([
    'fault-applied dead',
    'fault-cleared',
    'fault-applied udp conditions',
    'fault-cleared',
  ]);
  expect(seen.every((event) => 'link' in event && event.link === 'underlay' && event.robot === 'r04')).toBe(
    true,
  );
});
