import type { RecordedEvent } from '../core/events.ts';

/**
 * What a drill may have left on a robot that a claim must undo, as the run's events tell it.
 * Read from the events, not from the robot: a frozen robot cannot be asked, and neither backend
 * can say whether a cut is armed on it.
 */
export interface RobotCondition {
  /** Frozen by `freeze()` and not thawed or power-cycled since. */
  frozen: boolean;
  /** Taken off the network by `disconnectNetwork()` and not put back. */
  unplugged: boolean;
  /** A power cut armed on its next update that has neither struck nor been disarmed. */
  armedPowerCut: boolean;
}

/** Each robot's condition after `events` (the run's history, oldest first); robots never named are absent. */
export function robotConditions(events: readonly RecordedEvent[]): Map<string, RobotCondition> {
  const conditions = new Map<string, RobotCondition>();
  const of = (robot: string): RobotCondition => {
    let condition = conditions.get(robot);
    if (!condition) {
      condition = { frozen: false, unplugged: false, armedPowerCut: false };
      conditions.set(robot, condition);
    }
    return condition;
  };
  for (const event of events) {
    switch (event.kind) {
      case 'robot-frozen':
        of(event.robot).frozen = true;
        break;
      // A power-on starts every process afresh: nothing is left stopped.
      case 'robot-thawed':
      case 'power-on':
        of(event.robot).frozen = false;
        break;
      case 'network-disconnected':
        of(event.robot).unplugged = true;
        break;
      case 'network-reconnected':
        of(event.robot).unplugged = false;
        break;
      case 'power-cut-armed':
        of(event.robot).armedPowerCut = true;
        break;
      case 'power-cuts-disarmed':
        of(event.robot).armedPowerCut = false;
        break;
      // An armed cut fires once; a cut from outside leaves it armed (it survives reboots).
      case 'power-cut':
        if (event.injectedAt !== undefined) of(event.robot).armedPowerCut = false;
        break;
      default:
        break;
    }
  }
  return conditions;
}

/** The robots `events` leave taken off the network. */
export function unpluggedRobots(events: readonly RecordedEvent[]): string[] {
  return [...robotConditions(events)].filter(([, condition]) => condition.unplugged).map(([id]) => id);
}
