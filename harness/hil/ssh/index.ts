/** The Jetson HIL stage over SSH: the names the rest of the harness may use. */
export { SshStage, type StartedSshStage } from './stage.ts';
export { parseSshTarget, type SshTarget } from './target.ts';
export type { Precision, SshStageOptions } from './options.ts';
