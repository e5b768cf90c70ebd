// Real DDS between two participants: the Cyclone DDS probe, its build and its network config.
export {
  ensureDdsProbe,
  ddsProbeAvailability,
  ddsProbeSourceHash,
  DDS_PROBE_BUILD_DIR,
  type DdsToolchainPlaces,
} from './build.ts';
export { cycloneConfigXml, ddsPorts, type CycloneConfigOptions, type DdsPorts } from './cyclone-config.ts';
export {
  startDdsProbe,
  ddsProbeArgs,
  parseDdsProbeLine,
  DdsProbeError,
  type DdsProbeOptions,
  type DdsProbeReport,
  type DdsProbeEvent,
  type DdsProbeEventKind,
  type DdsProbeEventOf,
  type StartedDdsProbe,
} from './probe.ts';
