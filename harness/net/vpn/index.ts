export { parseWgDump } from './plumbing.ts';
export { startVpnHub } from './hub.ts';
export {
  VpnError,
  type VpnHub,
  type VpnHubOptions,
  type VpnPeerState,
  type VpnRobot,
  type VpnRobotOptions,
  type VpnUnderlay,
} from './types.ts';
export { sweepStaleVpn, vpnOwnerPid, vpnPrivileges } from './system.ts';
