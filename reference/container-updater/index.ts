/** The robot's container updater: what the harness may borrow (the entry point it bundles). */
export const CONTAINER_UPDATER_ENTRY = 'reference/container-updater/main.ts';
export const ROBOT_APP_ENTRY = 'reference/robot-sim/container-main.ts';
export { ContainerUpdater, type UpdaterOptions } from './updater.ts';
