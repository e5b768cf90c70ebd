import { isIPv4 } from 'node:net';
import { ConfigError } from '../../core/errors.ts';

/** How one probe's Cyclone DDS participant talks to the network. */
export interface CycloneConfigOptions {
  /** The IPv4 address of the interface to use (the namespace's veth, or 127.0.0.1). */
  bindAddress: string;
  /**
   * Unicast discovery peers: "ip:port" (the peer's discovery port, see ddsPorts), or a bare "ip",
   * which Cyclone probes on the ports of participant indexes 0..9.
   */
  peers: readonly string[];
  /**
   * The address advertised in discovery instead of bindAddress (Cyclone's
   * General/ExternalNetworkAddress): the relay's address on the other side of a network link, so
   * the peer sends its data through the relay.
   */
  externalAddress?: string;
  /**
   * Fixes the unicast ports (see ddsPorts); default 0. Two participants on one address need two
   * indexes, or 'auto' (the first free one; ports then are not known in advance).
   */
  participantIndex?: number | 'auto';
  /** Largest RTPS message in bytes (General/MaxMessageSize); Cyclone's default is 14720. */
  maxMessageSize?: number;
}

/**
 * The CYCLONEDDS_URI value (Cyclone 0.10 takes inline XML there) for a participant that never
 * multicasts and discovers only the given peers, on fixed ports: the network layer relays and
 * breaks exactly these ports, and a multicast fallback would route around it.
 */
export function cycloneConfigXml(options: CycloneConfigOptions): string {
  const index = options.participantIndex ?? 0;
  if (!isIPv4(options.bindAddress)) {
    throw new ConfigError(
      'cycloneConfig.bindAddress',
      `must be an IPv4 address, got ${JSON.stringify(options.bindAddress)}`,
    );
  }
  if (options.externalAddress !== undefined && !isIPv4(options.externalAddress)) {
    throw new ConfigError(
      'cycloneConfig.externalAddress',
      `must be an IPv4 address, got ${JSON.stringify(options.externalAddress)}`,
    );
  }
  if (index !== 'auto' && (!Number.isInteger(index) || index < 0 || index > 119)) {
    throw new ConfigError(
      'cycloneConfig.participantIndex',
      `must be 'auto' or an integer in 0..119, got ${index}`,
    );
  }
  if (
    options.maxMessageSize !== undefined &&
    (!Number.isInteger(options.maxMessageSize) ||
      options.maxMessageSize < 1024 ||
      options.maxMessageSize > 65000)
  ) {
    throw new ConfigError(
      'cycloneConfig.maxMessageSize',
      `must be an integer in 1024..65000, got ${options.maxMessageSize}`,
    );
  }
  if (options.peers.length === 0) {
    throw new ConfigError('cycloneConfig.peers', 'must name at least one peer (multicast discovery is off)');
  }
  options.peers.forEach((peer, i) => {
    const m = /^([^:]+)(?::(\d+))?$/.exec(peer);
    const port = m?.[2] === undefined ? 7400 : Number(m[2]);
    if (!m || !isIPv4(m[1] ?? '') || port < 1 || port > 65535) {
      throw new ConfigError(
        `cycloneConfig.peers[${i}]`,
        `must be "ipv4:port" or "ipv4", got ${JSON.stringify(peer)}`,
      );
    }
  });

  const general = [
    `<Interfaces><NetworkInterface address="${options.bindAddress}"/></Interfaces>`,
    '<AllowMulticast>false</AllowMulticast>',
    options.externalAddress
      ? `<ExternalNetworkAddress>${options.externalAddress}</ExternalNetworkAddress>`
      : '',
    options.maxMessageSize ? `<MaxMessageSize>${options.maxMessageSize}B</MaxMessageSize>` : '',
  ].join('');
  const peers = options.peers.map((p) => `<Peer address="${p}"/>`).join('');
  // Every value above was checked to be an address or a number, so nothing needs XML escaping.
  return (
    '<CycloneDDS><Domain id="any">' +
    `<General>${general}</General>` +
    `<Discovery><ParticipantIndex>${index}</ParticipantIndex><Peers>${peers}</Peers></Discovery>` +
    '</Domain></CycloneDDS>'
  );
}

/** The UDP ports of one participant under Cyclone's default port mapping (DDSI 9.6.1.1). */
export interface DdsPorts {
  /** Unicast discovery (SPDP/SEDP): 7400 + 250·domain + 10 + 2·index. */
  discovery: number;
  /** Unicast user data: 7400 + 250·domain + 11 + 2·index. */
  data: number;
}

/** The unicast ports a participant with a fixed index binds (verified with `ss -uapn`). */
export function ddsPorts(domain: number, participantIndex = 0): DdsPorts {
  if (!Number.isInteger(domain) || domain < 0 || domain > 232) {
    throw new ConfigError('dds.domain', `must be an integer in 0..232 (16-bit ports), got ${domain}`);
  }
  if (!Number.isInteger(participantIndex) || participantIndex < 0 || participantIndex > 119) {
    throw new ConfigError('dds.participantIndex', `must be an integer in 0..119, got ${participantIndex}`);
  }
  const base = 7400 + 250 * domain;
  return { discovery: base + 10 + 2 * participantIndex, data: base + 11 + 2 * participantIndex };
}
