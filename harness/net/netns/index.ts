export {
  NetnsLink,
  StartedNetnsLink,
  type NetnsDirection,
  type NetnsDirectionStats,
  type NetnsEndpoint,
  type NetnsLinkOptions,
} from './link.ts';
export { planConditions, validateConditions, type Mechanism, type NetnsPath } from './conditions.ts';
export { sweepStaleNetns } from './sweep.ts';
export { netnsPrivileges, NetnsCommandError, type NetnsPrivileges } from './system.ts';
