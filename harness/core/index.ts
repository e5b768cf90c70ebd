export { REPO_ROOT } from './paths.ts';
export {
  FleetdrillError,
  TimeoutError,
  ConfigError,
  RobotUnreachableError,
  RobotDiedError,
  GateFailedError,
  runAll,
  settleAll,
} from './errors.ts';
export { SEED_ENV, parseSeed, runSeed, deriveSeed, SeededRandom } from './seed.ts';
export {
  redact,
  redactStrings,
  redactionMarker,
  MIN_KNOWN_SECRET_LENGTH,
  type KnownSecret,
} from './redact.ts';
export { PLANTED_SECRET_ENV, plantedSecret, registerSecret, knownSecrets, redactSecrets } from './secrets.ts';
export { EventBus, type FleetEvent, type RecordedEvent } from './events.ts';
export {
  BACKENDS,
  MAX_ROBOTS,
  DEFAULT_CONFIG,
  CONFIG_ENV,
  loadConfig,
  validateConfig,
  parseCount,
  parsePositive,
  type BackendName,
  type FleetdrillConfig,
} from './config.ts';
export { TOXIC_NAMES, type ToxicName } from './toxic-names.ts';
export { LISTEN_ADDRESS_ENV, dialAddress, parseListenAddress, warnListenAddress } from './listen-address.ts';
export type { HilBudget, HilBudgets, StageKind } from './hil-budget.ts';
