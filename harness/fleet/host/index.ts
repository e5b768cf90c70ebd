export { RobotHost, type PowerSupply } from './robot-host.ts';
export {
  robotFiles,
  robotHostArgs,
  robotHostBoot,
  robotHostEnv,
  parseRobotReady,
  STATE_FILE,
  type RobotFiles,
  type RobotHostPlacement,
  type RobotReadyLine,
} from './robot-contract.ts';
export {
  CloudHost,
  CloudUnavailableError,
  cloudBoot,
  cloudFiles,
  cloudSchemes,
  parseCloudReady,
  type CloudAddresses,
  type CloudFiles,
  type CloudReadyLine,
  type CloudSupply,
} from './cloud-host.ts';
export { withLogTail, type ServiceBoot, type ServiceRuntime } from './service-runtime.ts';
