/**
 * The container-image update channel's contract, shared by the robot's updater
 * (reference/container-updater) and the harness: what an image artifact's payload says, the labels
 * the updater puts on the software containers it runs, the state it keeps on the robot's disk, and
 * what the software's health check prints.
 *
 * An image update rides on the cloud's ordinary deployments: the artifact is a signed fleetdrill
 * artifact whose payload is an {@link ImageReference} (JSON), so the cloud stores, offers and
 * records it as it does a slot image, and the robot verifies the signature before it pulls.
 */
import { z } from 'zod';

/** The `kind` of an image artifact's payload. */
export const IMAGE_REFERENCE_KIND = 'container-image';

/** An image artifact's payload. */
export const imageReferenceSchema = z.strictObject({
  kind: z.literal(IMAGE_REFERENCE_KIND),
  /** What `docker pull` takes: `registry/repository:tag`. */
  image: z.string().min(1).max(512),
});
export type ImageReference = z.infer<typeof imageReferenceSchema>;

/** Labels on every software container an updater runs. */
export const APP_LABELS = {
  /** The robot whose software the container is. */
  robot: 'fleetdrill.app-of',
  /** The image reference the container was started from (the engine reports only the id). */
  image: 'fleetdrill.app-image',
} as const;

/**
 * Where an update stands, as the updater's state file records it before each step:
 * `pulling` (the old container runs), `swapping` (the old one is being stopped and the new one
 * started and checked), `committing` (the new one passed its health check; the old one is being
 * removed), `rolling-back` (the new one failed; the old one is being brought back).
 */
export const UPDATE_PHASES = ['pulling', 'swapping', 'committing', 'rolling-back'] as const;
export type UpdatePhase = (typeof UPDATE_PHASES)[number];

const containerSchema = z.strictObject({ image: z.string().min(1), name: z.string().min(1) });

/** The updater's state file (`<state-dir>/updater-state.json`), written atomically. */
export const updaterStateSchema = z.strictObject({
  format: z.literal(1),
  robotId: z.string().min(1),
  /** The software the robot runs when no update is under way. */
  current: containerSchema,
  /** The update under way, if any. */
  pending: z
    .strictObject({
      deploymentId: z.string().min(1),
      phase: z.enum(UPDATE_PHASES),
      next: containerSchema,
      /** Power-ons that found this update half done; each resumes it. */
      resumes: z.number().int().min(0),
    })
    .optional(),
  /** The last deployment this updater finished, and how: a repeated offer is answered from it. */
  last: z
    .strictObject({
      deploymentId: z.string().min(1),
      status: z.enum(['success', 'failure']),
      message: z.string(),
    })
    .optional(),
});
export type UpdaterState = z.infer<typeof updaterStateSchema>;

/** The state file's name under the updater's state dir. */
export const UPDATER_STATE_FILE = 'updater-state.json';

/**
 * What the software's health check prints (one JSON line) and means: `booting` with the boot
 * step it reached (a step that keeps changing is progress), `healthy`, or `failed` with why.
 */
export const appHealthSchema = z.discriminatedUnion('status', [
  z.strictObject({ status: z.literal('booting'), step: z.string() }),
  z.strictObject({ status: z.literal('healthy'), version: z.string() }),
  z.strictObject({ status: z.literal('failed'), failures: z.array(z.string()) }),
]);
export type AppHealth = z.infer<typeof appHealthSchema>;

/** The port the software's health endpoint listens on inside its container (loopback only). */
export const APP_HEALTH_PORT = 8080;
