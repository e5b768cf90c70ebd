import { manifestDataSchema } from '../../../protocol/telemetry.ts';
import { verdict, type TelemetryOracle } from './oracle.ts';

/** The events that may trigger a blackbox. */
export const BLACKBOX_TRIGGERS = ['collision', 'estop', 'manual'] as const;

/**
 * The expensive tier only moves when something happened: every blackbox file answers a trigger
 * event of the same boot, every manifest has its finished file, and with no trigger at all not
 * one blackbox byte crossed the link. Each manifest's window is [max(trigger − preS, data since),
 * trigger + postS]: a trigger soon after boot has no data from before it (`dataSinceSimTime`).
 */
export const tierPolicy: TelemetryOracle<{ preS: number; postS: number; toleranceS?: number }> = {
  name: 'tier-policy',
  check(evidence, params) {
    const problems: string[] = [];
    const tolerance = params.toleranceS ?? 0.05;
    const triggers = evidence.records.filter(
      (record) => record.tier === 'events' && (BLACKBOX_TRIGGERS as readonly string[]).includes(record.name),
    );
    const triggerKeys = new Set(triggers.map((record) => `${record.bootId}/${record.seq}`));
    for (const box of evidence.blackboxes) {
      if (!triggerKeys.has(`${box.info.bootId}/${box.info.triggerSeq}`)) {
        problems.push(
          `blackbox ${box.info.key} has no trigger event (${box.info.bootId} seq ${box.info.triggerSeq})`,
        );
      }
    }
    const manifests = evidence.records.filter((record) => record.tier === 'blackbox');
    for (const record of manifests) {
      const parsed = manifestDataSchema.safeParse(record.data);
      if (!parsed.success) {
        problems.push(`manifest ${record.bootId}/${record.seq} is malformed`);
        continue;
      }
      const manifest = parsed.data;
      const file = evidence.blackboxes.find((box) => box.info.key === manifest.key);
      if (!file?.info.complete) problems.push(`manifest ${manifest.key} arrived without its finished file`);
      else if (file.info.sha256 !== manifest.sha256)
        problems.push(`manifest ${manifest.key} names another SHA-256 than the stored file`);
      const from = Math.max(manifest.triggerSimTime - params.preS, manifest.dataSinceSimTime ?? -Infinity);
      const to = manifest.triggerSimTime + params.postS;
      if (
        Math.abs(manifest.fromSimTime - from) > tolerance ||
        Math.abs(manifest.toSimTime - to) > tolerance
      ) {
        problems.push(
          `manifest ${manifest.key} covers ${manifest.fromSimTime.toFixed(2)}–${manifest.toSimTime.toFixed(2)} s, expected ${from.toFixed(2)}–${to.toFixed(2)} s`,
        );
      }
    }
    const blackboxBytes = evidence.summary.tiers.blackbox.bytesReceived + evidence.agent.bytes_sent.blackbox;
    if (!triggers.length && blackboxBytes > 0) {
      problems.push(`no trigger happened, yet ${blackboxBytes} blackbox bytes were sent`);
    }
    return verdict(
      this.name,
      evidence,
      problems,
      `${triggers.length} triggers, ${evidence.blackboxes.length} blackboxes, ${manifests.length} manifests`,
      {
        triggers: triggers.length,
        blackboxes: evidence.blackboxes.length,
        blackboxBytesSent: evidence.agent.bytes_sent.blackbox,
      },
    );
  },
};
