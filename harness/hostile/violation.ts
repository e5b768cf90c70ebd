import { FleetdrillError } from '../core/index.ts';

/**
 * One input broke an oracle: the server crashed or answered 5xx, answered a status its API does
 * not document, a loader failed with something other than a clear error naming the file, or
 * stored data changed. The message names the target, what was sent and what came back.
 */
export class OracleViolation extends FleetdrillError {}
