export {
  UdpRelay,
  UdpToxicError,
  UDP_TOXICS,
  type UdpRelayOptions,
  type UdpStream,
  type UdpStreamStats,
  type UdpToxic,
} from './relay.ts';
export type { Datagram, UdpToxicKind } from './toxic.ts';
