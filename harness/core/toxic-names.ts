/**
 * The Toxiproxy toxic types the fault layer implements, by the names the Toxiproxy API uses. The
 * config schema, link profiles and CLI help take them from here. The list lives in core, not
 * beside the embedded server's registry (net/toxiproxy/toxics/), because the config is validated
 * before anything above core loads; the registry is held to it by its types and by a test.
 */
export const TOXIC_NAMES = [
  'latency',
  'bandwidth',
  'slow_close',
  'timeout',
  'reset_peer',
  'slicer',
  'limit_data',
] as const;

/** One of the toxic types the fault layer implements. */
export type ToxicName = (typeof TOXIC_NAMES)[number];
