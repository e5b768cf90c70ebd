import type { FuzzReport } from './report.ts';
import type { FuzzTarget } from './runner.ts';

/** A fuzz target with its input type sealed in: what the hostile-inputs drill iterates over. */
export interface RunnableFuzzTarget {
  readonly name: string;
  /** runFuzz over this target, with the run's seed and the inputs per target. */
  run(options: { runSeed: number; runs: number }): Promise<FuzzReport>;
}

/**
 * Loads a target when it runs, not when the drill API is imported: the targets pull in the fleet
 * cloud, the robot simulator and fast-check, which every other drill's worker would pay for.
 */
function lazily<Input>(name: string, load: () => Promise<FuzzTarget<Input>>): RunnableFuzzTarget {
  return {
    name,
    async run(options) {
      const [{ runFuzz }, target] = await Promise.all([import('./runner.ts'), load()]);
      return runFuzz(target, options);
    },
  };
}

/** Every fuzz target, servers first: the hostile-inputs drill runs each in a test of its own. */
export const FUZZ_TARGETS: readonly RunnableFuzzTarget[] = [
  lazily('rosbridge', async () => (await import('./targets/rosbridge.ts')).rosbridgeTarget),
  lazily('fault-api', async () => (await import('./targets/fault-api.ts')).faultApiTarget),
  lazily('cloud-telemetry', async () => (await import('./targets/cloud-telemetry.ts')).cloudTelemetryTarget),
  lazily('cloud-blackbox', async () => (await import('./targets/cloud-blackbox.ts')).cloudBlackboxTarget),
  lazily('cloud-artifacts', async () => (await import('./targets/cloud-artifacts.ts')).cloudArtifactsTarget),
  lazily(
    'cloud-deployments',
    async () => (await import('./targets/cloud-deployments.ts')).cloudDeploymentsTarget,
  ),
  lazily('blackbox-file', async () => (await import('./targets/blackbox-file.ts')).blackboxFileTarget),
  lazily('artifact-file', async () => (await import('./targets/artifact-file.ts')).artifactFileTarget),
  lazily('world-file', async () => (await import('./targets/files.ts')).worldFileTarget),
  lazily('qos-contract-file', async () => (await import('./targets/files.ts')).qosContractFileTarget),
  lazily('qualification-file', async () => (await import('./targets/files.ts')).qualificationFileTarget),
];
