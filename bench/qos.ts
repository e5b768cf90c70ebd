/** The QoS figures: the reduced DDS matrix's wall time, and what the seeded relay adds to DDS latency. */
import {
  contractForModel,
  measureDdsLink,
  REDUCED_MATRIX_PROFILES,
  runQosMatrix,
  type TopicQos,
} from '../harness/qos/index.ts';

const RELIABLE: TopicQos = {
  reliability: 'reliable',
  durability: 'volatile',
  history: { kind: 'keep_last', depth: 10 },
};

/**
 * Wall time of the matrix `npm test` runs (scenarios/qos-dds.spec.ts): /cmd_vel and /scan of the
 * reference contract over the reduced profiles, three lanes, 5 s windows.
 */
export async function qosMatrixReducedSeconds(seed: number): Promise<number> {
  const started = performance.now();
  await runQosMatrix({
    contract: contractForModel('fd-amr-1'),
    topics: ['/cmd_vel', '/scan'],
    profiles: REDUCED_MATRIX_PROFILES,
    seed,
    measureMs: 5_000,
    lanes: 3,
  });
  return (performance.now() - started) / 1000;
}

/**
 * Median one-way DDS latency through the relay path less the same over a direct veth between the
 * same kind of namespaces, measured in the same run by real Cyclone DDS participants (200 Hz, 3 s).
 */
export async function ddsRelayAddedLatencyP50Us(seed: number): Promise<number> {
  const trial = {
    seed,
    profile: 'clear',
    publisher: RELIABLE,
    sample: { bytes: 64, rateHz: 200 },
    measureMs: 3_000,
  };
  const relay = await measureDdsLink({ ...trial, topic: '/bench_relay', path: 'relay' });
  const direct = await measureDdsLink({ ...trial, topic: '/bench_direct', path: 'direct' });
  if (!relay.measurement || !direct.measurement) {
    throw new Error(
      `no DDS latency measured: relay ${relay.couldNotTell ?? 'ok'}, direct ${direct.couldNotTell ?? 'ok'}`,
    );
  }
  return (relay.measurement.latencyMs.p50 - direct.measurement.latencyMs.p50) * 1000;
}
