/**
 * The container-image update channel's figure: how long a good image takes from its deployment
 * to running committed on the robot (docs/container-ota.md).
 */
import { ContainerOtaRig, runContainerOtaDrill } from '../harness/ota/container/index.ts';

/**
 * Seconds from the deployment's creation to the robot's commit report (both on the cloud's
 * clock): the artifact's download and check, the pull of the new layer through the fault layer
 * (no faults), stopping the old container, starting the new one and its health check passing,
 * and removing the old one. The median of `swaps` deployments on one robot.
 */
export async function containerOtaSwapSeconds(
  seed: number,
  swaps = 3,
): Promise<{ value: number; note: string }> {
  const rig = await ContainerOtaRig.start({ seed });
  try {
    const seconds: number[] = [];
    for (let i = 0; i < swaps; i++) {
      const result = await runContainerOtaDrill(rig, {
        name: `bench swap ${i + 1}`,
        deploy: { variant: 'good' },
        expect: { status: 'success', ends: 'new', states: ['Download', 'ArtifactInstall', 'ArtifactCommit'] },
      });
      if (result.problems.length) throw new Error(result.problems.join('; '));
      if (result.deploymentMs === null) throw new Error('the deployment has no finish time');
      seconds.push(result.deploymentMs / 1000);
    }
    const sorted = [...seconds].sort((a, b) => a - b);
    return {
      value: sorted[Math.floor(sorted.length / 2)]!,
      note: `swaps ${seconds.map((s) => s.toFixed(2)).join(', ')} s`,
    };
  } finally {
    await rig.stop();
  }
}
