/** Readers for what the Jetson stage brings back: trtexec's log and export times, and tegrastats. */
export { parseTrtexecLog, requireValidTrtexec, type TrtexecReport, type TrtexecSummary } from './trtexec.ts';
export {
  EXPORT_TIME_FIELDS,
  parseExportTimes,
  type ExportTimes,
  type ExportTimesOptions,
} from './export-times.ts';
export { parseTegrastats, parseTegrastatsLine } from './tegrastats.ts';
