/**
 * `fleetdrill doctor`: what a fresh machine lacks, what each missing piece is needed for, and the
 * exact command that installs it. Only what the default run (`npm start`: the nightly on the
 * embedded fleet, then the Allure report) needs makes it exit non-zero; the rest are warnings,
 * because `npm test`'s docker, HIL and MQTT-client tests say themselves what they miss.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import Table from 'cli-table3';
import { REPO_ROOT } from '../core/paths.ts';
import { netnsPrivileges, vpnPrivileges } from '../net/index.ts';
import { ddsProbeAvailability } from '../qos/index.ts';
import { REAL_CLIENT_TOOLS } from '../ota/real/availability.ts';

/** How one check came out: `fail` only for what `npm start` needs, `warn` for the rest. */
export type CheckStatus = 'ok' | 'warn' | 'fail';

/** One line of the doctor's report. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found, or what is wrong, with the specifics (version, path, error). */
  found: string;
  /** What fleetdrill uses it for. */
  neededFor: string;
  /** Whether the default run (`npm start`) needs it; only these fail the doctor. */
  blocking: boolean;
  /** The exact command that installs or fixes it (Debian/Ubuntu), empty when there is none. */
  fix: string;
}

/** What a check sees of the machine: the environment it runs with (PATH, JAVA_HOME, DOCKER_HOST). */
export interface DoctorEnv {
  env: NodeJS.ProcessEnv;
}

/** One check: a plugin with a name, what it is for, and a probe. */
interface Check {
  name: string;
  neededFor: string;
  blocking: boolean;
  run(ctx: DoctorEnv): Outcome | Promise<Outcome>;
}

/** What a probe saw: whether the piece is usable, the specifics, and the fix when it is not. */
export type Outcome = Pick<CheckResult, 'found' | 'fix'> & { ok: boolean };

/** The first executable called `name` on the PATH of `env`, as a shell would find it. */
export function which(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Runs a program with a deadline; never throws, so a hung tool reads as "does not answer". */
function probe(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 10_000,
): Promise<{ code: number | null; stdout: string; stderr: string; error?: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: timeoutMs, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (!error) {
        resolve({ code: 0, stdout, stderr });
        return;
      }
      // execFile's error carries the exit status as a number, or a spawn error's code as a string.
      const { code, killed, message } = error as { code?: unknown; killed?: boolean; message: string };
      const exit = typeof code === 'number' ? code : null;
      const reason = killed
        ? `no answer within ${timeoutMs} ms`
        : exit !== null
          ? `exit ${exit}`
          : typeof code === 'string'
            ? code
            : message;
      resolve({
        code: exit,
        stdout,
        stderr,
        error: reason,
      });
    });
  });
}

/** The first non-blank line of a tool's output, to quote it. */
function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((line) => line.trim())
      .find(Boolean) ?? ''
  );
}

/** `20.19.0` against `>=20.19`: only the `>=` form package.json uses; anything else is refused. */
export function satisfiesMinimum(version: string, range: string): boolean {
  const wanted = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  if (!wanted) throw new Error(`package.json engines.node '${range}': doctor understands only '>=X.Y.Z'`);
  const have = version.replace(/^v/, '').split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const a = have[i] ?? 0;
    const b = Number(wanted[i + 1] ?? 0);
    if (a !== b) return a > b;
  }
  return true;
}

/** The major version in `java -version`'s first line: `1.8.0_392` is 8, `17.0.9` is 17. */
export function javaMajor(output: string): number | undefined {
  const match = /version "(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) return undefined;
  const first = Number(match[1]);
  return first === 1 && match[2] !== undefined ? Number(match[2]) : first;
}

const APT = 'apt-get install -y';

/**
 * The real-client row's probe as `uid` would see it, on this machine's loop driver and `env`'s
 * PATH: root is as much a prerequisite as the tools, so a test asks as another user without being one.
 */
export function realClientsOutcome(env: NodeJS.ProcessEnv, uid: number | undefined): Outcome {
  const missing: string[] = [];
  if (uid !== 0) {
    missing.push(`root (loop devices and mount namespaces need it; running as uid ${uid ?? '?'})`);
  }
  try {
    accessSync('/dev/loop-control');
  } catch {
    missing.push('/dev/loop-control (the loop driver)');
  }
  const tools = Object.keys(REAL_CLIENT_TOOLS).filter((tool) => !which(tool, env));
  if (tools.length > 0) missing.push(`${tools.join(', ')} on PATH`);
  if (missing.length === 0) {
    return {
      ok: true,
      found: `root, /dev/loop-control and all ${Object.keys(REAL_CLIENT_TOOLS).length} tools`,
      fix: '',
    };
  }
  const packages = [...new Set(tools.map((tool) => REAL_CLIENT_TOOLS[tool]!))];
  const fixes = [
    ...(packages.length > 0 ? [`${APT} ${packages.join(' ')}`] : []),
    ...(uid !== 0 ? ['run as root (sudo)'] : []),
    ...(missing.some((what) => what.startsWith('/dev/loop-control')) ? ['modprobe loop'] : []),
  ];
  return {
    ok: false,
    found: `missing ${missing.join('; ')}: the real-client drills skip`,
    fix: fixes.join(' && '),
  };
}

const CHECKS: Check[] = [
  {
    name: 'node',
    neededFor: 'every command (engines.node in package.json)',
    blocking: true,
    run() {
      const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
        engines?: { node?: string };
      };
      const range = pkg.engines?.node ?? '>=0';
      const ok = satisfiesMinimum(process.versions.node, range);
      return {
        ok,
        found: ok ? `node ${process.versions.node}` : `node ${process.versions.node}, needs ${range}`,
        // Debian's own nodejs package lags behind; NodeSource's repository carries 20.x.
        fix: ok ? '' : `curl -fsSL https://deb.nodesource.com/setup_20.x | bash - && ${APT} nodejs`,
      };
    },
  },
  {
    name: 'java',
    neededFor: 'the Allure report that npm start writes (Java >= 8)',
    blocking: true,
    async run({ env }) {
      const fix = `${APT} default-jre-headless`;
      // allure-commandline's launcher prefers $JAVA_HOME/bin/java, else java on the PATH.
      const java = env.JAVA_HOME ? join(env.JAVA_HOME, 'bin', 'java') : which('java', env);
      if (!java) return { ok: false, found: 'no java on PATH (and JAVA_HOME is not set)', fix };
      const result = await probe(java, ['-version'], env);
      const major = javaMajor(result.stderr + result.stdout);
      if (result.error !== undefined || major === undefined) {
        return { ok: false, found: `${java} -version: ${result.error ?? firstLine(result.stderr)}`, fix };
      }
      if (major < 8) return { ok: false, found: `java ${major} at ${java}, needs >= 8`, fix };
      return { ok: true, found: `java ${major} (${java})`, fix: '' };
    },
  },
  {
    name: 'c++ toolchain',
    neededFor: "building better-sqlite3, the cloud's storage, when no prebuilt binding fits",
    blocking: true,
    run({ env }) {
      const binding = sqliteBinding();
      if (binding === undefined) {
        return { ok: true, found: "not needed: better-sqlite3's binding is built and loads", fix: '' };
      }
      const missing = ['make', 'g++', 'python3'].filter((tool) => !which(tool, env));
      if (missing.length > 0) {
        return {
          ok: false,
          found: `better-sqlite3 does not load (${binding}) and ${missing.join(', ')} missing`,
          fix: `${APT} ${missing.join(' ')} && npm rebuild better-sqlite3`,
        };
      }
      return {
        ok: false,
        found: `better-sqlite3 does not load (${binding}); the toolchain is there`,
        fix: 'npm rebuild better-sqlite3',
      };
    },
  },
  {
    name: 'mosquitto-clients',
    neededFor: "npm test: MQTT tests watch the cloud's broker with it",
    blocking: false,
    run({ env }) {
      const missing = ['mosquitto_sub', 'mosquitto_pub'].filter((tool) => !which(tool, env));
      return missing.length === 0
        ? { ok: true, found: which('mosquitto_sub', env)!, fix: '' }
        : { ok: false, found: `no ${missing.join(', ')} on PATH`, fix: `${APT} mosquitto-clients` };
    },
  },
  {
    name: 'docker engine',
    neededFor: 'the docker backend, its drills in npm test (npm run test:embedded skips them)',
    blocking: false,
    async run({ env }) {
      const docker = which('docker', env);
      if (!docker) return { ok: false, found: 'no docker on PATH', fix: `${APT} docker.io` };
      const result = await probe(docker, ['info', '--format', '{{.ServerVersion}}'], env);
      if (result.error === undefined && result.stdout.trim()) {
        return { ok: true, found: `engine ${result.stdout.trim()} answers`, fix: '' };
      }
      const said = firstLine(result.stderr) || result.error || 'no version';
      const start = 'dockerd >/var/log/dockerd.log 2>&1 &';
      return {
        ok: false,
        found: `the client is there but no engine answers (${said})`,
        fix: which('dockerd', env) ? start : `${APT} docker.io && ${start}`,
      };
    },
  },
  {
    name: 'sshd',
    neededFor: "npm test: the HIL stage's SSH tests run their own sshd on loopback",
    blocking: false,
    run() {
      const sshd = '/usr/sbin/sshd';
      try {
        accessSync(sshd, constants.X_OK);
        return { ok: true, found: sshd, fix: '' };
      } catch {
        return { ok: false, found: `no ${sshd}`, fix: `${APT} openssh-server` };
      }
    },
  },
  {
    name: 'cyclone dds',
    neededFor: 'npm test: the real-DDS QoS drills and `fleetdrill qos` build a probe against Cyclone DDS',
    blocking: false,
    async run({ env }) {
      const available = await ddsProbeAvailability({ ...(env.PATH !== undefined && { path: env.PATH }) });
      return available.ok
        ? {
            ok: true,
            found: `idlc, cc and libddsc on PATH${which('ddsperf', env) ? ', ddsperf' : ''}`,
            fix: '',
          }
        : {
            ok: false,
            found: `missing ${available.missing}`,
            fix: `${APT} cyclonedds-dev cyclonedds-tools gcc`,
          };
    },
  },
  {
    name: 'network namespaces',
    neededFor: 'npm test: the real-DDS QoS drills run each participant in its own namespace',
    blocking: false,
    run() {
      const privileges = netnsPrivileges();
      return privileges.ok
        ? { ok: true, found: 'root, ip, tc and nft', fix: '' }
        : {
            ok: false,
            found: `missing ${privileges.missing}`,
            fix: privileges.missing.startsWith('root')
              ? 'nothing to install: run as root (sudo)'
              : `${APT} iproute2 nftables`,
          };
    },
  },
  {
    name: 'WireGuard tunnel',
    neededFor: 'the @vpn drills: robots behind NAT over wireguard-go (docs/vpn.md)',
    blocking: false,
    run() {
      const privileges = vpnPrivileges();
      return privileges.ok
        ? { ok: true, found: 'root, /dev/net/tun, wireguard-go, wg, ip, tc and nft', fix: '' }
        : {
            ok: false,
            found: `missing ${privileges.missing}`,
            fix: privileges.missing.startsWith('root')
              ? 'nothing to install: run as root (sudo)'
              : `${APT} wireguard-go wireguard-tools iproute2 nftables`,
          };
    },
  },
  {
    name: 'real OTA clients',
    neededFor:
      'npm test: the Mender, RAUC and SWUpdate drills (loop-device slots, a mount namespace per robot)',
    blocking: false,
    run: ({ env }) => realClientsOutcome(env, process.getuid?.()),
  },
  {
    name: 'root',
    neededFor: 'network namespaces (real DDS) and loop devices (Mender/RAUC slots); not the default run',
    blocking: false,
    run() {
      const uid = process.getuid?.();
      return uid === 0
        ? { ok: true, found: 'running as root', fix: '' }
        : { ok: false, found: `running as uid ${uid ?? '?'}`, fix: 'nothing to install: run as root (sudo)' };
    },
  },
];

/**
 * Why better-sqlite3 does not work, or undefined when it opens a database. Loading it for real
 * catches a binding built for another Node ABI, which a file check would miss.
 */
function sqliteBinding(): string | undefined {
  try {
    const require = createRequire(join(REPO_ROOT, 'package.json'));
    const Database = require('better-sqlite3') as new (path: string) => { close(): void };
    new Database(':memory:').close();
    return undefined;
  } catch (error) {
    return firstLine((error as Error).message);
  }
}

/** Runs every check with the given environment (default: this process's). */
export async function diagnose(env: NodeJS.ProcessEnv = process.env): Promise<CheckResult[]> {
  return Promise.all(
    CHECKS.map(async (check) => {
      const { ok, found, fix } = await check.run({ env });
      const status: CheckStatus = ok ? 'ok' : check.blocking ? 'fail' : 'warn';
      return { name: check.name, status, found, neededFor: check.neededFor, blocking: check.blocking, fix };
    }),
  );
}

/** `fleetdrill doctor` options. */
export interface DoctorFlags {
  json?: boolean;
}

/** Prints the report; returns 1 when something the default run needs is missing, else 0. */
export async function doctor(flags: DoctorFlags): Promise<number> {
  const results = await diagnose();
  const failed = results.filter((result) => result.status === 'fail');
  const warned = results.filter((result) => result.status === 'warn');
  if (flags.json) {
    console.log(JSON.stringify({ checks: results, ok: failed.length === 0 }));
  } else {
    const table = new Table({
      head: ['check', 'status', 'found', 'needed for', 'install / fix'],
      colWidths: [19, 9, 28, 32, 30],
      wordWrap: true,
      style: { head: [], border: [] },
      // No rule between rows: seven short rows read better as one block.
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    for (const result of results) {
      const status = result.status === 'ok' ? 'ok' : result.status === 'fail' ? 'MISSING' : 'warn';
      table.push([result.name, status, result.found, result.neededFor, result.fix || '-']);
    }
    console.log(table.toString());
    for (const result of [...failed, ...warned]) {
      console.log(`${result.status === 'fail' ? 'missing' : 'warning'}: ${result.name}: ${result.fix}`);
    }
    console.log(
      failed.length > 0
        ? `doctor: npm start cannot run: ${failed.map((result) => result.name).join(', ')} missing`
        : `doctor: ready for npm start${warned.length > 0 ? ` (${warned.length} warnings: ${warned.map((result) => result.name).join(', ')})` : ''}`,
    );
  }
  return failed.length > 0 ? 1 : 0;
}
