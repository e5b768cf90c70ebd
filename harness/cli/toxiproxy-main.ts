/**
 * `fleetdrill toxiproxy` on its own, without the rest of the command line: the entry the fault
 * layer's container image is bundled from (docker/toxiproxy). Same flags, same output.
 */
import { parseArgs } from 'node:util';
import { FleetdrillError } from '../core/errors.ts';
import { toxiproxy } from './toxiproxy.ts';

const { values } = parseArgs({
  options: {
    // The image passes --host=0.0.0.0: in its container, the run's network is the one to serve.
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string', default: '8474' },
    config: { type: 'string' },
    seed: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  strict: true,
});

try {
  process.exitCode = await toxiproxy({ ...values, host: values.host, port: values.port });
} catch (error) {
  console.error(error instanceof FleetdrillError ? error.message : error);
  process.exitCode = 1;
}
