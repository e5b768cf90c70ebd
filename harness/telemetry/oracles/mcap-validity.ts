import { coversWindow } from '../mcap.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/** Topics every reference blackbox records. */
const SENSOR_TOPICS = ['/odom', '/scan', '/imu'];

/**
 * Every finished blackbox reads back as MCAP with CRCs checked, has the `foxglove` metadata,
 * a schema for every channel and the sensor topics, matches its SHA-256 and covers the window
 * around its trigger.
 */
export const mcapValidity: TelemetryOracle<{ preS: number; postS: number; toleranceS?: number }> = {
  name: 'mcap-validity',
  check(evidence, params) {
    const problems: string[] = [];
    const tolerance = BigInt(Math.round((params.toleranceS ?? 0.25) * 1e9));
    let checked = 0;
    for (const box of evidence.blackboxes) {
      if (!box.info.complete) {
        problems.push(
          `blackbox ${box.info.key} is not finished (${box.info.offset} of ${box.info.length} bytes)`,
        );
        continue;
      }
      if (box.error || !box.contents) {
        problems.push(`blackbox ${box.info.key} does not read back: ${box.error ?? 'no contents'}`);
        continue;
      }
      if (box.servedSha256 !== box.info.sha256)
        problems.push(`blackbox ${box.info.key} served bytes do not match its SHA-256`);
      const contents = box.contents;
      const device = contents.metadata.foxglove?.deviceName;
      if (device !== evidence.robotId)
        problems.push(`blackbox ${box.info.key}: foxglove deviceName is ${device ?? 'missing'}`);
      for (const topic of SENSOR_TOPICS) {
        if (!contents.channels.some((channel) => channel.topic === topic && channel.messages > 0)) {
          problems.push(`blackbox ${box.info.key} has no ${topic} messages`);
        }
      }
      const trigger = evidence.records.find(
        (record) =>
          record.tier === 'events' && record.bootId === box.info.bootId && record.seq === box.info.triggerSeq,
      );
      const meta = contents.metadata.fleetdrill;
      const triggerNs = meta?.triggerStampNs;
      if (trigger && triggerNs) {
        const stamp = BigInt(triggerNs);
        const window = coversWindow(
          contents,
          stamp - BigInt(Math.round(params.preS * 1e9)),
          stamp + BigInt(Math.round(params.postS * 1e9)),
          tolerance,
          { topics: SENSOR_TOPICS },
        );
        if (!window.ok)
          problems.push(`blackbox ${box.info.key}: ${window.reason ?? 'does not cover its window'}`);
      } else {
        problems.push(`blackbox ${box.info.key}: no trigger stamp to check its window against`);
      }
      checked++;
    }
    return verdict(this.name, evidence, problems, `${checked} blackboxes valid and covering their windows`, {
      checked,
    });
  },
};
