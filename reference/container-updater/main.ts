/*
 * The robot's container updater as a process (the robot's power domain: a power cut SIGKILLs
 * it, a power-on starts it again).
 *
 *   node container-updater.mjs --robot r01 --cloud http://127.0.0.1:8080 --state-dir DIR \
 *     --device NAME --initial-image IMAGE --public-key FILE [--label k=v]...
 *
 * With --lifeline it ends when its stdin closes (the harness that started it is gone).
 * Prints {"event":"ready"} once the containers agree with its state file, then applies what the
 * cloud deploys until SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ContainerUpdater } from './updater.ts';

function main(): void {
  const { values } = parseArgs({
    options: {
      robot: { type: 'string' },
      cloud: { type: 'string' },
      'state-dir': { type: 'string' },
      device: { type: 'string' },
      'initial-image': { type: 'string' },
      'public-key': { type: 'string', multiple: true, default: [] },
      label: { type: 'string', multiple: true, default: [] },
      'poll-ms': { type: 'string' },
      lifeline: { type: 'boolean', default: false },
    },
    strict: true,
  });
  for (const flag of ['robot', 'cloud', 'state-dir', 'device', 'initial-image'] as const) {
    if (!values[flag]) throw new Error(`--${flag} is required`);
  }
  if (!values['public-key'].length)
    throw new Error('--public-key is required: the updater installs signed artifacts only');
  const labels: Record<string, string> = {};
  for (const label of values.label) {
    const at = label.indexOf('=');
    if (at <= 0) throw new Error(`--label ${label}: expected key=value`);
    labels[label.slice(0, at)] = label.slice(at + 1);
  }
  const updater = new ContainerUpdater({
    robotId: values.robot!,
    cloudUrl: values.cloud!,
    stateDir: values['state-dir']!,
    device: values.device!,
    initialImage: values['initial-image']!,
    publicKeys: values['public-key'].map((file) => readFileSync(file, 'utf8')),
    labels,
    ...(values['poll-ms'] ? { pollMs: Number(values['poll-ms']) } : {}),
  });
  if (values.lifeline) {
    // The harness that powers this robot is gone (even SIGKILLed): so is the robot's power.
    process.stdin.on('end', () => process.exit(0));
    process.stdin.on('error', () => process.exit(0));
    process.stdin.resume();
  }
  process.once('SIGTERM', () => updater.stop());
  process.once('SIGINT', () => updater.stop());
  void updater
    .reconcile()
    .then(() => {
      process.stdout.write(`${JSON.stringify({ event: 'ready', robot: values.robot })}\n`);
      return updater.run();
    })
    .then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`container-updater: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
}

try {
  main();
} catch (error) {
  process.stderr.write(`container-updater: ${(error as Error).message}\n`);
  process.exit(2);
}
