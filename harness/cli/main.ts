import { Command, Option } from 'commander';
import { BACKENDS, DEFAULT_CONFIG, OTA_CLIENT_ENV, parseBackend } from '../core/config.ts';
import { OTA_CLIENTS } from '../../protocol/disk-layout.ts';
import { FleetdrillError } from '../core/errors.ts';
import { TOXIC_NAMES } from '../core/toxic-names.ts';
import { generateReport, RESULTS_DIR } from './report.ts';
import { listScenarios, runPlaywright, selectionArgs } from './scenarios.ts';
import { parseCount, parsePositive } from '../core/config.ts';
import { parseSeed, runSeed } from '../core/seed.ts';
import { join } from 'node:path';
import { REPO_ROOT } from '../core/paths.ts';
import { FUZZ_RUNS_ENV, NIGHTLY_FUZZ_RUNS } from '../hostile/runs.ts';
// Each command's module is loaded when that command runs: loading all of them (Docker, SSH, ONNX
// Runtime, the fleet) cost every invocation seconds, a bad flag included.
import type { UpFlags } from './up.ts';
import type { ToxiproxyFlags } from './toxiproxy.ts';
import type { ImagesFlags } from './images.ts';
import type { HilFlags } from './hil.ts';
import type { QosFlags } from './qos.ts';
import type { DoctorFlags } from './doctor.ts';
import type { OtaBuildFlags, OtaFuzzFlags } from './ota.ts';
import type { MergeFlags, QualifyFlags } from './qualify.ts';
import { parseOtaClientFlag } from './ota-client-flag.ts';
import { ROBOT_VARIANTS } from '../ota/variant-names.ts';
import { DOCKER_HOSTS_ENV, resolveEngines } from '../fleet/docker/engines.ts';
import { LISTEN_ADDRESS_ENV, parseListenAddress } from '../core/listen-address.ts';

const DOCKER_HOST_FLAG = '--docker-host <url>';
const DOCKER_HOST_HELP =
  'docker backend: an engine to spread robots over (unix:///…, tcp://host:port, ssh://user@host, each =weight optional); repeat it, the first is home';

const LISTEN_ADDRESS_FLAG = '--listen-address <ipv4>';
const LISTEN_ADDRESS_HELP =
  "the run's servers (fault layer, robots' rosbridge, cloud) listen here instead of 127.0.0.1 (0.0.0.0: every interface); printed as a warning";

/** Flags `run` and `nightly` share. */
interface RunFlags {
  robots?: string;
  seed?: string;
  rtf?: string;
  world?: string;
  project?: string;
  backend?: string;
  robotImage?: string;
  otaClient?: string;
  dockerHost?: string[];
  listenAddress?: string;
  vpn?: boolean;
}

/** Commander's collector for a repeatable option. */
function repeated(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Turns `run` flags into the environment playwright.config.ts reads. */
function runEnv(flags: RunFlags): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (flags.robots !== undefined) env.FLEETDRILL_ROBOTS = String(parseCount(flags.robots, '--robots'));
  if (flags.seed !== undefined) env.FLEETDRILL_SEED = String(parseSeed(flags.seed, '--seed'));
  if (flags.rtf !== undefined) env.FLEETDRILL_RTF = String(parsePositive(flags.rtf, '--rtf'));
  if (flags.world !== undefined) env.FLEETDRILL_WORLD = flags.world;
  if (flags.backend !== undefined) env.FLEETDRILL_BACKEND = parseBackend(flags.backend);
  if (flags.robotImage !== undefined) env.FLEETDRILL_ROBOT_IMAGE = flags.robotImage;
  if (flags.otaClient !== undefined) env[OTA_CLIENT_ENV] = parseOtaClientFlag(flags.otaClient);
  if (flags.dockerHost?.length) {
    resolveEngines(flags.dockerHost, '--docker-host');
    env[DOCKER_HOSTS_ENV] = flags.dockerHost.join(',');
  }
  if (flags.listenAddress !== undefined)
    env[LISTEN_ADDRESS_ENV] = parseListenAddress(flags.listenAddress, '--listen-address');
  if (flags.vpn) env.FLEETDRILL_VPN = '1';
  return env;
}

export function buildProgram(): Command {
  const program = new Command('fleetdrill')
    .description('Drills for ROS 2 robot fleets: bring up a fleet, inject faults, qualify a release.')
    .showHelpAfterError();

  program
    .command('up')
    .description('bring a fleet up and keep it up until Ctrl-C')
    .option('--robots <n>', 'number of robots', String(DEFAULT_CONFIG.fleet.robots))
    .option('--seed <seed>', 'the run seed (default: a fresh one, printed)')
    .option('--world <name|path>', 'world name in reference/worlds or a path', DEFAULT_CONFIG.fleet.world)
    .option('--rtf <x>', 'simulation real-time factor', String(DEFAULT_CONFIG.fleet.rtf))
    .option('--backend <name>', `where robots run: ${BACKENDS.join(' or ')}`, DEFAULT_CONFIG.fleet.backend)
    .option('--robot-image <image>', 'docker backend: run this robot image (a Gazebo robot) instead')
    .option(DOCKER_HOST_FLAG, DOCKER_HOST_HELP, repeated, [])
    .option(
      '--ota-client <name>',
      `who updates the robots: ${OTA_CLIENTS.join(', ')} (default: config ota.client)`,
    )
    .option('--no-telemetry', 'no edge agents and no fleet cloud: robots only')
    .option(LISTEN_ADDRESS_FLAG, LISTEN_ADDRESS_HELP)
    .option(
      '--vpn',
      'robots reach the cloud through a WireGuard tunnel behind a NAT (embedded, root; docs/vpn.md)',
    )
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags: UpFlags) => {
      const { up } = await import('./up.ts');
      process.exitCode = await up(flags);
    });

  program
    .command('doctor')
    .description('check what this machine needs (Node, Java, Docker, ...) and how to install what is missing')
    .option('--json', 'the checks as one JSON object')
    .action(async (flags: DoctorFlags) => {
      const { doctor } = await import('./doctor.ts');
      process.exitCode = await doctor(flags);
    });

  program
    .command('toxiproxy')
    .description(
      `run the embedded Toxiproxy-compatible server until Ctrl-C (toxics: ${TOXIC_NAMES.join(', ')})`,
    )
    .option('--host <host>', 'interface the API listens on', '127.0.0.1')
    .option('--port <port>', 'API port (0: any free port)', '8474')
    .option('--config <file>', 'JSON array of proxies to create at start, as POST /populate takes')
    .option('--seed <seed>', 'seed for jitter and toxicity (default: a fresh one, printed)')
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags: ToxiproxyFlags) => {
      const { toxiproxy } = await import('./toxiproxy.ts');
      process.exitCode = await toxiproxy(flags);
    });

  program
    .command('images')
    .description("build the docker backend's images from the repository (only what changed)")
    .option('--stage-only', 'lay out the build contexts (incl. the Gazebo robot) and print them')
    .option('--json', 'one JSON object per line on stdout')
    .action(async (flags: ImagesFlags) => {
      const { images } = await import('./images.ts');
      process.exitCode = await images(flags);
    });

  program
    .command('hil')
    .description('measure a model on a hardware-in-the-loop stage against its latency budget')
    .option('--stage <stage>', 'local (ONNX Runtime here) or ssh://user@host[:port] (a Jetson)')
    .option('--model <path>', 'ONNX model (default: reference/models/perception-cnn.onnx)')
    .option('--min-queries <n>', 'measured queries at least (default: config hil.discipline)')
    .option('--min-duration-ms <ms>', 'measured duration at least (default: config hil.discipline)')
    .option('--key <path>', 'ssh stage: private key (default $HIL_KEY, ~/.ssh/id_ed25519, id_rsa)')
    .option('--precision <p>', 'ssh stage: fp16 (default), fp32 or int8')
    .option('--json', 'the verdict as JSON, and the KPIs as the last line')
    .action(async (flags: HilFlags) => {
      const { hil } = await import('./hil.ts');
      process.exitCode = await hil(flags);
    });

  program
    .command('qos')
    .description(
      "sweep a robot model's QoS contract over real DDS (Cyclone DDS between network namespaces) and judge each topic",
    )
    .option('--contract <file>', 'a QoS contract file (default: the --model one under reference/qos)')
    .option('--model <name>', 'robot model whose contract to load', 'fd-amr-1')
    .option(
      '--profiles <list>',
      'link profiles, comma-separated (default: clear, loss-1..20, burst, dead-zone-2s)',
    )
    .option('--topics <list>', 'contract topics to run, comma-separated (default: all)')
    .option('--sweep <list>', 'topics that also get the reliability × depth sweep')
    .option(
      '--path <path>',
      'relay (seeded userspace relay: loss, bursts, delay) or direct (kernel: nft, tbf)',
      'relay',
    )
    .option('--lanes <n>', 'cells run at once, each on its own namespaces', '2')
    .option('--measure-ms <ms>', 'judged window per cell (slow topics get longer)', '4000')
    .option('--seed <n>', 'seed of the link drops (default: a new one, printed)')
    .option('--out <dir>', 'where qos-matrix.json and qos-matrix.svg go', 'reports/qos')
    .option('--json', 'the whole result as one JSON object on stdout')
    .action(async (flags: QosFlags) => {
      const { qos } = await import('./qos.ts');
      process.exitCode = await qos(flags);
    });

  const ota = program.command('ota').description('signed OTA artifacts for the update drills');
  ota
    .command('build')
    .description('build an artifact of the reference robot software in one variant')
    .option('--variant <name>', `one of ${ROBOT_VARIANTS.join(', ')}`, 'good')
    .option('--version <semver>', 'the version the artifact carries and the software reports')
    .option('--out <file>', 'copy the artifact here (default: print its path in the cache)')
    .option('--slot-capacity <bytes>', 'the slot size it must fit (too-large: the size it must pass)')
    .option(
      '--ota-client <name>',
      `build for this client with its own tool: ${OTA_CLIENTS.join(', ')}`,
      'fleetdrill',
    )
    .option('--json', 'one JSON object on stdout')
    .action(async (flags: OtaBuildFlags) => {
      const { otaBuild } = await import('./ota.ts');
      process.exitCode = await otaBuild(flags);
    });
  ota
    .command('fuzz')
    .description("cut robots' power at random moments across whole updates and check every power-on")
    .option('--cuts <n>', 'power cuts in all', '100')
    .option('--seed <seed>', 'the run seed (default: a fresh one, printed)')
    .option('--robots <n>', 'robots fuzzed side by side', '2')
    .option(
      '--ota-client <name>',
      `whose updates to cut: ${OTA_CLIENTS.join(', ')} (default: config ota.client, else fleetdrill)`,
    )
    .option('--json', 'the summary as one JSON line, the last on stdout')
    .action(async (flags: OtaFuzzFlags) => {
      const { otaFuzz } = await import('./ota.ts');
      process.exitCode = await otaFuzz(flags);
    });

  program
    .command('run')
    .description('run scenarios by name (scenarios/<name>.spec.ts) or @tag; all when none given')
    .argument('[selectors...]', 'scenario names or tags such as @smoke')
    .option('--robots <n>', 'robots per fleet')
    .option('--seed <seed>', 'replay a run with this seed')
    .option('--world <name|path>', 'world')
    .option('--rtf <x>', 'simulation real-time factor')
    .option('--backend <name>', `where robots run: ${BACKENDS.join(' or ')} (default embedded)`)
    .option('--robot-image <image>', 'docker backend: run this robot image (a Gazebo robot) instead')
    .option(DOCKER_HOST_FLAG, DOCKER_HOST_HELP, repeated, [])
    .option('--ota-client <name>', `who updates the robots: ${OTA_CLIENTS.join(', ')}`)
    .option(LISTEN_ADDRESS_FLAG, LISTEN_ADDRESS_HELP)
    .option(
      '--vpn',
      'robots reach the cloud through a WireGuard tunnel behind a NAT (embedded, root; docs/vpn.md)',
    )
    .addOption(new Option('--project <name>', 'Playwright project (default: embedded, docker-all on docker)'))
    .allowExcessArguments(true)
    .action(async (selectors: string[], flags: RunFlags, command: Command) => {
      const passThrough = command.args.slice(selectors.length);
      const env = runEnv(flags);
      const project = flags.project ?? (env.FLEETDRILL_BACKEND === 'docker' ? 'docker-all' : 'embedded');
      process.exitCode = await runPlaywright(
        [`--project=${project}`, ...selectionArgs(selectors), ...passThrough],
        env,
      );
    });

  program
    .command('list')
    .description('list scenarios with their tags')
    .action(async () => {
      const tests = await listScenarios();
      const nameWidth = Math.max(...tests.map((test) => test.scenario.length));
      const tagWidth = Math.max(...tests.map((test) => test.tags.join(' ').length));
      for (const test of tests) {
        console.log(
          `${test.scenario.padEnd(nameWidth)}  ${test.tags.join(' ').padEnd(tagWidth)}  ${test.title}`,
        );
      }
    });

  program
    .command('qualify')
    .description(
      'qualify a release: the suite, OTA fuzz, QoS matrix and HIL stage, judged against qualification.yaml (exit 0 qualified, 1 not, 2 could not judge)',
    )
    .requiredOption('--release <version>', 'the release candidate, e.g. 2.4.0')
    .option('--baseline <version>', 'compare figures with this release from the history store')
    .option('--shard <i/n>', 'run slice i of n (merge the slices with fleetdrill merge)')
    .option('--qualification <file>', 'the requirements (default: qualification.yaml)')
    .option('--waivers <file>', 'accepted failures: requirement, reason, owner, expiry')
    .option(
      '--history <spec>',
      'history store: sqlite:<file> or json:<dir> (default reports/history/…sqlite)',
    )
    .option('--sut-version <version>', 'the software under test, when its files do not say')
    .option('--seed <seed>', 'the run seed (default: derived from the release, the same on every shard)')
    .option('--out <dir>', 'where the shard or report goes (default reports/qualify/<release>)')
    .option('--no-allure', 'skip the Allure report (the qualification report is written all the same)')
    .action(async (flags: QualifyFlags) => {
      const { qualify } = await import('./qualify.ts');
      process.exitCode = await qualify(flags);
    });

  program
    .command('merge')
    .description('merge the shards of a qualification into one verdict, report and Allure report')
    .argument('<dirs...>', 'the shards directories (fleetdrill qualify --shard … --out <dir>)')
    .requiredOption('--release <version>', 'the release the shards qualified')
    .option('--baseline <version>', 'compare figures with this release from the history store')
    .option('--qualification <file>', 'the requirements (default: qualification.yaml)')
    .option('--waivers <file>', 'accepted failures: requirement, reason, owner, expiry')
    .option('--history <spec>', 'history store: sqlite:<file> or json:<dir>')
    .option('--out <dir>', 'where the report goes (default reports/qualify/<release>)')
    .option('--no-allure', 'skip the Allure report (the qualification report is written all the same)')
    .action(async (dirs: string[], flags: MergeFlags) => {
      const { merge } = await import('./qualify.ts');
      process.exitCode = await merge(dirs, flags);
    });

  program
    .command('report')
    .description('generate the Allure report from the last run into reports/allure-report')
    .action(async () => {
      const dir = await generateReport();
      console.log(`report: ${dir}/index.html (serve it with: npx allure open ${dir})`);
    });

  program
    .command('nightly')
    .description('the nightly suite on the embedded fleet (@nightly), then the report')
    .option('--robots <n>', 'robots per fleet')
    .option('--seed <seed>', 'replay a run with this seed')
    .option('--history <spec>', 'append the run to this history store: sqlite:<file> or json:<dir>')
    .action(async (flags: RunFlags & { history?: string }) => {
      const env = runEnv(flags);
      env.FLEETDRILL_SEED ??= String(runSeed(env));
      // The hostile-inputs drill's nightly volume, unless the caller chose another.
      env[FUZZ_RUNS_ENV] ??= String(NIGHTLY_FUZZ_RUNS);
      const code = await runPlaywright(['--project=embedded', '--grep', '@nightly'], env);
      const { nightlyWithHistory } = await import('./qualify.ts');
      const dir = await nightlyWithHistory({
        history: flags.history,
        resultsJson: join(REPO_ROOT, 'reports', 'results.json'),
        seed: Number(env.FLEETDRILL_SEED),
        resultsDir: RESULTS_DIR,
        generateReport: (resultsDir) => generateReport({ resultsDir }),
      });
      console.log(`report: ${dir}/index.html (serve it with: npx allure open ${dir})`);
      process.exitCode = code;
    });

  return program;
}

/** Entry point: runs the CLI and turns known errors into one clear line and exit code 2. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof FleetdrillError) {
      console.error(`fleetdrill: ${error.message}`);
      process.exitCode = 2;
      return;
    }
    throw error;
  }
}
