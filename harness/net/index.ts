export {
  FleetNetwork,
  StartedFleetNetwork,
  TOXIPROXY_URL_ENV,
  type FleetNetworkOptions,
  type InlineProfile,
} from './network.ts';
export { RobotLink } from './link.ts';
export { startImpostorCloud, type ImpostorCloud } from './impostor-cloud.ts';
export {
  BUILTIN_PROFILES,
  ProfileRegistry,
  type CustomProfileConfig,
  type LinkProfile,
  type LinkState,
  type ProfilePhase,
  type Stream,
  type ToxicSpec,
} from './profiles.ts';
export {
  chaosSchedule,
  runSchedule,
  type ChaosOptions,
  type FaultStep,
  type RunningSchedule,
  type TimelineEntry,
} from './schedule.ts';
export { linkQuality, nextTier, tierFor, TIERS, type LinkQuality, type TierProfile } from './wifi-map.ts';
export { WifiCoverage, type WifiCoverageOptions } from './wifi-coverage.ts';
export { UdpRelay, UdpToxicError, UDP_TOXICS, type UdpToxic } from './udp/index.ts';
export {
  isUdpProfileName,
  parseUdpProfile,
  UDP_PROFILE_GRAMMAR,
  type UdpLinkConditions,
  type UdpProfile,
} from './udp-profiles.ts';
export {
  NetnsLink,
  StartedNetnsLink,
  netnsPrivileges,
  NetnsCommandError,
  sweepStaleNetns,
  type Mechanism,
  type NetnsDirection,
  type NetnsDirectionStats,
  type NetnsEndpoint,
  type NetnsLinkOptions,
  type NetnsPath,
  type NetnsPrivileges,
} from './netns/index.ts';
export {
  parseWgDump,
  startVpnHub,
  sweepStaleVpn,
  VpnError,
  vpnOwnerPid,
  vpnPrivileges,
  type VpnHub,
  type VpnHubOptions,
  type VpnPeerState,
  type VpnRobot,
  type VpnRobotOptions,
  type VpnUnderlay,
} from './vpn/index.ts';
