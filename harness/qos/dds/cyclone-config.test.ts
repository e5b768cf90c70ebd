import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { NetnsLink, netnsPrivileges } from '../../net/index.ts';
import type { TopicQos } from '../policy.ts';
import { ddsProbeAvailability, ensureDdsProbe } from './build.ts';
import { cycloneConfigXml, ddsPorts } from './cyclone-config.ts';
import { startDdsProbe } from './probe.ts';

const run = promisify(execFile);
const QOS: TopicQos = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 10 },
};

test('the XML turns multicast off and names the interface, peers, index, external address and message size', () => {
  const xml = cycloneConfigXml({
    bindAddress: '10.200.1.2',
    peers: ['10.200.1.1:7410', '10.200.1.1'],
    externalAddress: '10.200.9.1',
    participantIndex: 3,
    maxMessageSize: 1400,
  });
  expect(xml).toMatch(/^<CycloneDDS><Domain id="any">.*<\/Domain><\/CycloneDDS>$/);
  expect(xml).toContain('<NetworkInterface address="10.200.1.2"/>');
  expect(xml).toContain('<AllowMulticast>false</AllowMulticast>');
  expect(xml).toContain('<ExternalNetworkAddress>10.200.9.1</ExternalNetworkAddress>');
  expect(xml).toContain('<MaxMessageSize>1400B</MaxMessageSize>');
  expect(xml).toContain('<ParticipantIndex>3</ParticipantIndex>');
  expect(xml).toContain('<Peers><Peer address="10.200.1.1:7410"/><Peer address="10.200.1.1"/></Peers>');
  const plain = cycloneConfigXml({ bindAddress: '127.0.0.1', peers: ['127.0.0.1:7410'] });
  expect(plain).toContain('<ParticipantIndex>0</ParticipantIndex>');
  expect(plain).not.toContain('ExternalNetworkAddress');
});

test('bad config values are refused, naming the field', () => {
  const ok = { bindAddress: '127.0.0.1', peers: ['127.0.0.1:7410'] };
  expect(() => cycloneConfigXml({ ...ok, bindAddress: 'eth0' })).toThrow(
    /^cycloneConfig\.bindAddress must be an IPv4/,
  );
  expect(() => cycloneConfigXml({ ...ok, peers: ['127.0.0.1:7410', 'host:1'] })).toThrow(
    /^cycloneConfig\.peers\[1\] /,
  );
  expect(() => cycloneConfigXml({ ...ok, peers: ['127.0.0.1:70000'] })).toThrow(
    /^cycloneConfig\.peers\[0\] /,
  );
  expect(() => cycloneConfigXml({ ...ok, peers: [] })).toThrow(/^cycloneConfig\.peers must name/);
  expect(() => cycloneConfigXml({ ...ok, participantIndex: 120 })).toThrow(
    /^cycloneConfig\.participantIndex /,
  );
  expect(() => cycloneConfigXml({ ...ok, externalAddress: '1.2.3' })).toThrow(
    /^cycloneConfig\.externalAddress /,
  );
  expect(() => cycloneConfigXml({ ...ok, maxMessageSize: 100 })).toThrow(/^cycloneConfig\.maxMessageSize /);
});

test("ddsPorts follows Cyclone's default mapping", () => {
  expect(ddsPorts(0)).toEqual({ discovery: 7410, data: 7411 });
  expect(ddsPorts(0, 1)).toEqual({ discovery: 7412, data: 7413 });
  expect(ddsPorts(150, 1)).toEqual({ discovery: 44912, data: 44913 });
  expect(() => ddsPorts(233)).toThrow(/^dds\.domain /);
  expect(() => ddsPorts(1, -1)).toThrow(/^dds\.participantIndex /);
});

test('live on loopback: fixed participant indexes bind the ports ddsPorts names', async () => {
  await needProbe();
  const domain = 111;
  const peers = [0, 1].map((i) => `127.0.0.1:${ddsPorts(domain, i).discovery}`);
  const topic = `fd_ports_${process.pid}`;
  const xml = (participantIndex: number) =>
    cycloneConfigXml({ bindAddress: '127.0.0.1', peers, participantIndex });
  await using sub = await startDdsProbe({
    role: 'sub',
    topic,
    domain,
    qos: QOS,
    label: 'ports-sub',
    cycloneXml: xml(1),
  });
  await using pub = await startDdsProbe({
    role: 'pub',
    topic,
    domain,
    qos: QOS,
    label: 'ports-pub',
    cycloneXml: xml(0),
  });
  await sub.waitFor('sample', 10_000);
  const { stdout } = await run('ss', ['-uapnH']);
  // "UNCONN 0 0 0.0.0.0:44910 0.0.0.0:* users:(("ddsprobe",pid=123,fd=3))": the local port of each socket.
  const bound = (pid: number) =>
    stdout
      .split('\n')
      .filter((line) => line.includes(`pid=${pid},`))
      .map((line) => Number(line.trim().split(/\s+/)[3]?.split(':').at(-1)));
  expect(bound(pub.pid)).toEqual(
    expect.arrayContaining([ddsPorts(domain, 0).discovery, ddsPorts(domain, 0).data]),
  );
  expect(bound(sub.pid)).toEqual(
    expect.arrayContaining([ddsPorts(domain, 1).discovery, ddsPorts(domain, 1).data]),
  );
});

test('live across two namespaces: peers send to the advertised external address, and nowhere else', async () => {
  await needProbe();
  const privileges = netnsPrivileges();
  test.skip(!privileges.ok, privileges.ok ? '' : `needs ${privileges.missing}`);
  // Cyclone takes ExternalNetworkAddress only with a single non-loopback interface, which is what
  // each namespace of the link has (on the host's loopback alone it refuses to start).
  await using link = await NetnsLink.start({ seed: 13, path: 'direct', label: 'dds-ext' });
  const domain = 112;
  const endpoint = (side: typeof link.robot, externalAddress: string) =>
    cycloneConfigXml({
      bindAddress: side.bindAddress,
      peers: [`${side.peer}:${ddsPorts(domain).discovery}`],
      externalAddress,
    });
  const pair = async (name: string, subExternal: string) => {
    const topic = `fd_ext_${name}_${process.pid}`;
    const sub = await startDdsProbe({
      role: 'sub',
      topic,
      domain,
      qos: QOS,
      label: `robot-sub-${name}`,
      netns: link.robot.netns,
      cycloneXml: endpoint(link.robot, subExternal),
    });
    const pub = await startDdsProbe({
      role: 'pub',
      topic,
      domain,
      qos: QOS,
      label: `offboard-pub-${name}`,
      netns: link.offboard.netns,
      cycloneXml: endpoint(link.offboard, link.offboard.advertise),
      rateHz: 20,
    });
    return { sub, pub };
  };

  const good = await pair('good', link.robot.advertise);
  await good.sub.waitFor('sample', 10_000);
  await Promise.all([good.sub.stop(), good.pub.stop()]);

  // The robot advertises an address nobody has: the off-board side's announcements and data go
  // there, so the robot never learns of the writer and gets nothing.
  const robotNet = link.robot.bindAddress.split('.').slice(0, 3).join('.');
  const nowhere = `${robotNet}.${link.robot.bindAddress.endsWith('.77') ? 78 : 77}`;
  const bad = await pair('bad', nowhere);
  await new Promise((r) => setTimeout(r, 3_000));
  const [subReport] = await Promise.all([bad.sub.stop(), bad.pub.stop()]);
  expect(subReport.samples, `robot sub advertising ${nowhere} still received samples`).toHaveLength(0);
});

async function needProbe(): Promise<void> {
  const availability = await ddsProbeAvailability();
  test.skip(
    !availability.ok,
    availability.ok ? '' : `ddsprobe cannot be built: missing ${availability.missing}`,
  );
  await ensureDdsProbe();
}
