import { DATA_SINCE_PREFIX } from '../../../protocol/telemetry.ts';
import { coversWindow } from '../mcap.ts';
import { verdict, type TelemetryEvidence, type TelemetryOracle } from './oracle.ts';

/** Topics every reference blackbox records. */
const SENSOR_TOPICS = ['/odom', '/scan', '/imu'];

const seconds = (ns: bigint): string => `${(Number(ns) / 1e9).toFixed(3)} s`;

/**
 * Every finished blackbox reads back as MCAP with CRCs checked, has the `foxglove` metadata,
 * a schema for every channel and the sensor topics, matches its SHA-256 and covers the window
 * around its trigger.
 *
 * The window contract: [max(trigger − preS, data since), trigger + postS], where "data since"
 * is the latest first sample of the sensor topics the recorder holds in the trigger's boot
 * (`dataSinceNs:<topic>` in the `fleetdrill` metadata). A trigger soon after boot cannot hold data
 * from before the boot; anything missing from inside the window is still a failure. The file
 * must state that start (`windowFromNs`), and its /odom claim is checked against the cloud: the
 * agent's metrics carry the sim time of the /odom it had seen, so no metrics record of the boot
 * may be older than the first /odom the recorder says it held.
 */
export const mcapValidity: TelemetryOracle<{ preS: number; postS: number; toleranceS?: number }> = {
  name: 'mcap-validity',
  check(evidence, params) {
    const problems: string[] = [];
    const tolerance = BigInt(Math.round((params.toleranceS ?? 0.25) * 1e9));
    let checked = 0;
    let shortened = 0;
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
      // The trigger is the event of the same boot with the same seq: seqs restart every boot.
      const trigger = evidence.records.find(
        (record) =>
          record.tier === 'events' && record.bootId === box.info.bootId && record.seq === box.info.triggerSeq,
      );
      const meta = contents.metadata.fleetdrill ?? {};
      const triggerNs = parseNs(meta.triggerStampNs);
      if (!trigger || triggerNs === undefined) {
        problems.push(`blackbox ${box.info.key}: no trigger stamp to check its window against`);
        checked++;
        continue;
      }
      const requestedNs = triggerNs - BigInt(Math.round(params.preS * 1e9));
      const sinceByTopic = new Map<string, bigint>();
      for (const [key, value] of Object.entries(meta)) {
        const ns = key.startsWith(DATA_SINCE_PREFIX) ? parseNs(value) : undefined;
        if (ns !== undefined) sinceByTopic.set(key.slice(DATA_SINCE_PREFIX.length), ns);
      }
      let dataSinceNs: bigint | undefined;
      for (const ns of sinceByTopic.values())
        if (dataSinceNs === undefined || ns > dataSinceNs) dataSinceNs = ns;
      const fromNs = dataSinceNs !== undefined && dataSinceNs > requestedNs ? dataSinceNs : requestedNs;
      if (fromNs > requestedNs + tolerance) shortened++;
      const toNs = triggerNs + BigInt(Math.round(params.postS * 1e9));

      const statedFrom = parseNs(meta.windowFromNs);
      if (statedFrom === undefined) {
        problems.push(`blackbox ${box.info.key}: no windowFromNs in its fleetdrill metadata`);
      } else if (statedFrom - fromNs > tolerance || fromNs - statedFrom > tolerance) {
        problems.push(
          `blackbox ${box.info.key}: states its window starts at ${seconds(statedFrom)}, the contract says ${seconds(fromNs)} (max of trigger − ${params.preS} s and data since ${dataSinceNs === undefined ? 'unknown' : seconds(dataSinceNs)})`,
        );
      }
      const odomClaim = odomClaimProblem(evidence, box.info.bootId, sinceByTopic.get('/odom'));
      if (odomClaim) problems.push(`blackbox ${box.info.key}: ${odomClaim}`);

      const window = coversWindow(contents, fromNs, toNs, tolerance, { topics: SENSOR_TOPICS });
      if (!window.ok)
        problems.push(`blackbox ${box.info.key}: ${window.reason ?? 'does not cover its window'}`);
      checked++;
    }
    return verdict(
      this.name,
      evidence,
      problems,
      `${checked} blackboxes valid and covering their windows${shortened ? ` (${shortened} starting at the boot's first sensor data)` : ''}`,
      { checked, shortened },
    );
  },
};

/**
 * A recorder that says its /odom starts later than it does would excuse data it lost. The
 * agent's metrics carry `simTime`, the stamp of the newest /odom it had: a metrics record of the
 * boot older than the claimed first /odom proves the claim wrong. Evicted metrics only make
 * this check weaker, never wrong.
 */
function odomClaimProblem(
  evidence: TelemetryEvidence,
  bootId: string,
  odomSinceNs: bigint | undefined,
): string | undefined {
  if (odomSinceNs === undefined) return undefined;
  let earliest: { seq: number; simTime: number } | undefined;
  for (const record of evidence.records) {
    if (record.tier !== 'metrics' || record.bootId !== bootId || record.simTime === undefined) continue;
    if (!earliest || record.simTime < earliest.simTime)
      earliest = { seq: record.seq, simTime: record.simTime };
  }
  // Sim time travels as seconds in a double: allow for its rounding, not more.
  if (!earliest || earliest.simTime >= Number(odomSinceNs) / 1e9 - 1e-6) return undefined;
  return `says its /odom data starts at ${seconds(odomSinceNs)}, yet metrics seq ${earliest.seq} of boot ${bootId} saw /odom at ${earliest.simTime.toFixed(3)} s`;
}

function parseNs(value: string | undefined): bigint | undefined {
  if (value === undefined || !/^-?\d+$/.test(value)) return undefined;
  return BigInt(value);
}
