/**
 * tegrastats lines into device samples. The format changed with each JetPack: rails went from
 * `cur/avg` (no unit) to `curmW/avgmW` to `cur/avg/peak` mW, GR3D_FREQ gained a frequency and then
 * one per GPC, JetPack 7 prefixes a timestamp and prints temperatures in pairs. Fields this parser
 * does not report (SWAP, EMC_FREQ, NVENC, APE, ...) are skipped so that a board's extra engines do
 * not break it; the fields it does report must parse.
 */
import { HilError, type DeviceSample } from '../types.ts';

const TIMESTAMP = /^(\d{2})-(\d{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})\s+/;
const MEMORY = /^(\d+)\/(\d+)([kMG]B)$/;
const CORE = /^(\d+)%(?:@(\d+))?$/;
const ENGINE_LOAD = /^(\d+)%(?:@(\d+|\[\d+(?:,\d+)*\]))?$/;
const TEMPERATURE = /^([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:\/(-?\d+(?:\.\d+)?)C)?$/;
const NAME = /^[A-Z][A-Z0-9_]*$/;
const RAIL = /^(\d+)(?:mW)?\/(\d+)(?:mW)?(?:\/(\d+)(?:mW)?)?$/;
const OTHER_ENGINE = /^(?:off|\d+|\d+%(?:@\S+)?)$/;
/** What tegrastats prints for a thermal zone that is powered off. */
const SENSOR_OFF = -256;

/** One tegrastats line as a sample; throws HilError when it is not tegrastats output or a reported field is malformed. */
export function parseTegrastatsLine(line: string): DeviceSample {
  return parseLine(line, 'tegrastats');
}

/** Every non-blank line of a tegrastats log; throws HilError naming the line number of a bad line. */
export function parseTegrastats(text: string): DeviceSample[] {
  const samples: DeviceSample[] = [];
  for (const [index, line] of text.split(/\r?\n/).entries()) {
    if (line.trim() === '') continue;
    samples.push(parseLine(line, `tegrastats line ${index + 1}`));
  }
  return samples;
}

function parseLine(line: string, where: string): DeviceSample {
  const fail = (reason: string): HilError => new HilError(`${where}: ${reason}: '${line.trim()}'`);
  const sample: DeviceSample = { cpus: [], temperaturesC: {}, powerMw: {} };

  let rest = line.trim();
  const stamp = TIMESTAMP.exec(rest);
  if (stamp) {
    sample.t = timestampOf(stamp) ?? failWith(fail('bad timestamp'));
    rest = rest.slice(stamp[0].length);
  }
  // Parenthesised details ("(lfb 1x2MB)", "(cached 0MB)") carry nothing a sample reports.
  const tokens = rest.replace(/\([^)]*\)/g, ' ').split(/\s+/);
  const ram = MEMORY.exec(tokens[1] ?? '');
  if (tokens[0] !== 'RAM' || !ram || ram[3] !== 'MB') {
    throw fail('not tegrastats output (expected it to begin with RAM <used>/<total>MB)');
  }
  sample.ram = { usedMb: Number(ram[1]), totalMb: Number(ram[2]) };

  for (let i = 2; i < tokens.length; i++) {
    const token = tokens[i]!;
    const next = tokens[i + 1] ?? '';
    if (token === 'CPU' && next.startsWith('[')) {
      sample.cpus = coresOf(next) ?? failWith(fail(`bad CPU field '${next}'`));
      i++;
    } else if (token === 'GR3D_FREQ') {
      sample.gpu = engineLoadOf(next) ?? failWith(fail(`bad GR3D_FREQ '${next}'`));
      i++;
    } else if (token.includes('@')) {
      const temperature = TEMPERATURE.exec(token) ?? failWith(fail(`bad temperature '${token}'`));
      // JetPack 7 prints two readings per sensor; the first is the one a sample reports.
      const celsius = Number(temperature[2]);
      sample.temperaturesC[temperature[1]!.toLowerCase()] = celsius === SENSOR_OFF ? null : celsius;
    } else if (NAME.test(token) && MEMORY.test(next)) {
      i++;
    } else if (NAME.test(token) && next.includes('/')) {
      const rail = RAIL.exec(next) ?? failWith(fail(`bad power rail ${token} '${next}'`));
      const [, current, average, peak] = rail;
      sample.powerMw[token] = {
        current: Number(current),
        average: Number(average),
        ...(peak === undefined ? {} : { peak: Number(peak) }),
      };
      i++;
    } else if (NAME.test(token) && OTHER_ENGINE.test(next)) {
      i++;
    }
  }
  return sample;
}

function failWith(error: HilError): never {
  throw error;
}

/** The device's wall clock as printed (MM-DD-YYYY HH:MM:SS, no zone), read as UTC so parsing does not depend on where it runs. */
function timestampOf(match: RegExpExecArray): number | undefined {
  const [month, day, year, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(t);
  const valid =
    date.getUTCMonth() === month - 1 && date.getUTCDate() === day && hour < 24 && minute < 60 && second < 60;
  return valid ? t : undefined;
}

/** `[2%@1190,off,0%@729]` → per-core load and MHz, null for a core that is off. */
function coresOf(field: string): DeviceSample['cpus'] | undefined {
  if (!field.startsWith('[') || !field.endsWith(']') || field.length < 3) return undefined;
  const cores: DeviceSample['cpus'] = [];
  for (const core of field.slice(1, -1).split(',')) {
    if (core === 'off') {
      cores.push(null);
      continue;
    }
    const match = CORE.exec(core);
    if (!match) return undefined;
    cores.push({ loadPct: Number(match[1]), mhz: match[2] === undefined ? null : Number(match[2]) });
  }
  return cores;
}

/** `10%`, `10%@1300` or `12%@[1300,1300]` (one clock per GPC, reported as the highest). */
function engineLoadOf(field: string): DeviceSample['gpu'] | undefined {
  const match = ENGINE_LOAD.exec(field);
  if (!match) return undefined;
  const clock = match[2];
  let mhz: number | null = null;
  if (clock !== undefined) {
    mhz = clock.startsWith('[') ? Math.max(...clock.slice(1, -1).split(',').map(Number)) : Number(clock);
  }
  return { loadPct: Number(match[1]), mhz };
}
