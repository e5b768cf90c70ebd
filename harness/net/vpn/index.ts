export {
  parseWgDump,
  startVpnHub,
  VpnError,
  type VpnHub,
  type VpnHubOptions,
  type VpnPeerState,
  type VpnRobot,
  type VpnRobotOptions,
  type VpnUnderlay,
} from './hub.ts';
export { sweepStaleVpn, vpnOwnerPid, vpnPrivileges } from './system.ts';
