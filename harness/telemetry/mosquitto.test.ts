/* A standard MQTT client from outside the project watches one robot's live metrics, over TLS. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { referenceFleet } from '../testing/reference-fleet.ts';

const run = promisify(execFile);

test("Debian's mosquitto_sub sees r02's live metrics, sent by its edge agent, in order", async () => {
  test.setTimeout(60_000);
  const fleet = await referenceFleet({ robots: 2, seed: 7 }).start();
  try {
    const broker = new URL(fleet.cloud.mqttUrl);
    // Over TLS, as `fleetdrill up` prints it: the operator's certificate from the run dir.
    const files = fleet.cloud.operator?.files;
    expect(files, 'the reference fleet runs with TLS').toBeDefined();
    const { stdout } = await run(
      'mosquitto_sub',
      [
        ...['-h', broker.hostname, '-p', broker.port],
        ...['--cafile', files!.ca, '--cert', files!.cert, '--key', files!.key],
        ...['-t', 'fleetdrill/r02/metrics', '-C', '3', '-W', '20'],
      ],
      { timeout: 30_000 },
    );
    const records = stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as {
            robotId: string;
            bootId: string;
            seq: number;
            tier: string;
            data: { battery?: unknown };
          },
      );
    expect(records).toHaveLength(3);
    for (const record of records) {
      expect(record).toMatchObject({ robotId: 'r02', bootId: 'b1', tier: 'metrics' });
      expect(record.data.battery).toBeDefined();
    }
    const seqs = records.map((record) => record.seq);
    expect(
      [...seqs].sort((a, b) => a - b),
      'live, in order',
    ).toEqual(seqs);
  } finally {
    await fleet.stop();
  }
});
