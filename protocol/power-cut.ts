/**
 * How a drill arms a power cut on a robot and how the robot says one struck: the OTA client's
 * state-script points a cut can be armed at, the `/edge_agent/arm_power_cut` service and request, and the
 * marker file the cut leaves on the robot's disk. The edge agent's fault injector
 * (reference/edge-agent/ota/faults.ts) and the harness both read them from here.
 */
import { z } from 'zod';

/** Where a state script runs. `Download` and `ArtifactInstall` run again as bytes go by. */
export const STATE_SCRIPT_POINTS = [
  'Download_Enter',
  'Download',
  'ArtifactInstall_Enter',
  'ArtifactInstall',
  'ArtifactReboot_Enter',
  'ArtifactCommit_Enter',
  'ArtifactCommit_Leave',
  'ArtifactRollbackReboot_Enter',
] as const;
export type StateScriptPoint = (typeof STATE_SCRIPT_POINTS)[number];

/** The file an injected power cut leaves on the robot's disk just before it happens. */
export const POWER_CUT_MARKER = '.fleetdrill-power-cut';

/**
 * The `/edge_agent/arm_power_cut` request (fleetdrill_msgs/srv/ArmPowerCut): ROS field names, as
 * rosbridge_server forwards every field of the request with its value or the type's default.
 */
export const armedFaultSchema = z
  .object({
    at: z.enum(STATE_SCRIPT_POINTS),
    /** For Download and ArtifactInstall: fire once this many bytes are on the disk; 0 at once. */
    after_bytes: z.number().int().min(0).default(0),
  })
  .strict();
export type ArmedFault = z.infer<typeof armedFaultSchema>;

/** The edge agent's power-cut services on the robot's rosbridge (drills only). */
export const OTA_SERVICES = {
  /** Drills only: arms a power cut at a state-script point ({at, after_bytes}); see armedFaultSchema. */
  armPowerCut: { name: '/edge_agent/arm_power_cut', type: 'fleetdrill_msgs/srv/ArmPowerCut' },
  /** Drills only: takes every armed power cut back. */
  disarmPowerCuts: { name: '/edge_agent/disarm_power_cuts', type: 'std_srvs/srv/Trigger' },
} as const;
