import { isOtaClientName, OTA_CLIENTS, type OtaClientName } from '../../protocol/disk-layout.ts';
import { loadConfig, type FleetdrillConfig } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';

/** Validates `--ota-client`, naming the flag. Default fleetdrill's own client. */
export function parseOtaClientFlag(value: string | undefined): OtaClientName {
  if (value === undefined) return 'fleetdrill';
  if (!isOtaClientName(value)) {
    throw new ConfigError('--ota-client', `must be one of ${OTA_CLIENTS.join(', ')}, got '${value}'`);
  }
  return value;
}

/**
 * Who updates the robots: `--ota-client` when given, else the config's `ota.client` (its file,
 * then FLEETDRILL_OTA_CLIENT), whose default is fleetdrill. `up` and `ota fuzz` resolve it here;
 * `run` hands the flag to its workers as FLEETDRILL_OTA_CLIENT, which the same config reads. The
 * config is read only without the flag, so a flag works beside a config file it does not need.
 */
export function resolveOtaClient(
  flag: string | undefined,
  config: () => FleetdrillConfig = () => loadConfig(),
): OtaClientName {
  return flag === undefined ? config().ota.client : parseOtaClientFlag(flag);
}
