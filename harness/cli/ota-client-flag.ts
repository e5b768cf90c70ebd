import { isOtaClientName, OTA_CLIENTS, type OtaClientName } from '../../protocol/disk-layout.ts';
import { ConfigError } from '../core/errors.ts';

/** Validates `--ota-client`, naming the flag. Default fleetdrill's own client. */
export function parseOtaClientFlag(value: string | undefined): OtaClientName {
  if (value === undefined) return 'fleetdrill';
  if (!isOtaClientName(value)) {
    throw new ConfigError('--ota-client', `must be one of ${OTA_CLIENTS.join(', ')}, got '${value}'`);
  }
  return value;
}
