/*
 * The Gazebo robot image (docker/robot-gazebo) cannot be built or run here (no registry, no ROS,
 * no Gazebo), so this checks what its files promise against the code that defines the contract:
 * the reference robot's and the edge agent's topics and services, the fleetdrill_msgs types with
 * the fields the reference robot and the edge agent send, the docker backend's image contract, the launch arguments
 * gazebo-stack.ts passes, and the world against its fleetdrill JSON. Each test names what it catches.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { AGENT_SERVICES } from '../../../reference/edge-agent/agent.ts';
import { armedFaultSchema } from '../../../protocol/power-cut.ts';
import { toStatusResponse } from '../../../protocol/agent-status.ts';
import { AgentStore } from '../../../reference/edge-agent/store/agent-store.ts';
import { SERVICES, TOPICS } from '../../../reference/robot-sim/index.ts';
import { MessageBuilders } from '../../../reference/robot-sim/messages.ts';
import {
  GAZEBO_LAUNCH_COMMAND,
  launchArguments,
  ROBOT_STACK_ENV,
  ROS_SETUP_ENV,
} from '../../../reference/robot-sim/gazebo-stack.ts';
import { LIDAR } from '../../../reference/robot-sim/sensors.ts';
import { LIFELINE_ENV, READY_TO_ENV } from '../../../protocol/service-link.ts';
import { loadWorld } from '../../../protocol/world.ts';
import { resolveWorldPath } from '../../../reference/worlds/index.ts';
import { ROBOT_SERVICES, ROBOT_TOPICS, type GetVersionResponse } from '../../ros/messages.ts';
import { REPO_ROOT } from '../../core/paths.ts';

const IMAGE_DIR = join(REPO_ROOT, 'docker', 'robot-gazebo');
const PKG = join(IMAGE_DIR, 'fleetdrill_gazebo');
const MSGS = join(IMAGE_DIR, 'fleetdrill_msgs');
const read = (...path: string[]): string => readFileSync(join(...path), 'utf8');

/** One entry of ros_gz_bridge's YAML config. */
interface BridgeEntry {
  ros_topic_name: string;
  gz_topic_name: string;
  ros_type_name: string;
  gz_type_name: string;
  direction: 'GZ_TO_ROS' | 'ROS_TO_GZ' | 'BIDIRECTIONAL';
}

/**
 * bridge.yaml is a flat list of maps of plain scalars; anything else is refused, so a config
 * this cannot read fails the test instead of being half read.
 */
function parseBridgeYaml(text: string): BridgeEntry[] {
  const entries: Record<string, string>[] = [];
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\s+#.*$/, '').trimEnd();
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^(- | {2})([a-z_]+): *(.+)$/.exec(line);
    if (!match) throw new Error(`bridge.yaml:${index + 1}: not a "key: value" of a list entry: ${raw}`);
    const [, lead, key, value] = match as unknown as [string, string, string, string];
    if (lead === '- ') entries.push({});
    const entry = entries.at(-1);
    if (!entry) throw new Error(`bridge.yaml:${index + 1}: a key before the first "- "`);
    entry[key] = value.replace(/^(['"])(.*)\1$/, '$2');
  }
  for (const entry of entries) {
    for (const key of ['ros_topic_name', 'gz_topic_name', 'ros_type_name', 'gz_type_name', 'direction'])
      if (!entry[key]) throw new Error(`bridge.yaml: an entry without ${key}: ${JSON.stringify(entry)}`);
  }
  return entries as unknown as BridgeEntry[];
}

/** A ROS interface's fields: name → type, as written (`float64`, `std_msgs/Header`, `TierCounts`). */
type Fields = Map<string, string>;

/** Fields of a .msg, or of one part of a .srv; constants (`TYPE NAME=value`) are not fields. */
function parseFields(text: string): Fields {
  const fields: Fields = new Map();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '' || line.includes('=')) continue;
    const match = /^([A-Za-z][\w/]*(?:\[\d*\])?)\s+([a-z][a-z0-9_]*)(\s+\S+)?$/.exec(line);
    if (!match) throw new Error(`not a field: ${raw}`);
    fields.set(match[2]!, match[1]!);
  }
  return fields;
}

/** The interface file of `pkg/msg/Name` or `pkg/srv/Name` in fleetdrill_msgs; undefined when absent. */
function fleetdrillInterface(type: string): { request: Fields; response: Fields } | undefined {
  const [pkg, kind, name] = type.split('/');
  if (pkg !== 'fleetdrill_msgs') throw new Error(`${type} is not a fleetdrill_msgs type`);
  const file = join(MSGS, kind!, `${name}.${kind}`);
  if (!existsSync(file)) return undefined;
  const [request, response = ''] = read(file).split(/^---$/m);
  return kind === 'srv'
    ? { request: parseFields(request!), response: parseFields(response) }
    : { request: parseFields(request!), response: new Map() };
}

/** A ROS 2 field name as rosidl accepts it: lower case, digits, single underscores inside. */
const ROS_FIELD_NAME = /^(?!.*__)(?!.*_$)[a-z][a-z0-9_]*$/;

/** The field names of message types from other packages the fleetdrill messages nest. */
const NESTED_FIELDS: Record<string, string[]> = {
  'std_msgs/Header': ['stamp', 'frame_id'],
  'geometry_msgs/Point': ['x', 'y', 'z'],
};
const UNSIGNED = /^(uint(8|16|32|64)|byte|char)$/;
const SIGNED = /^int(8|16|32|64)$/;
const FLOAT = /^float(32|64)$/;

/**
 * Every field of `value` (a message as the reference robot or agent sends it, through JSON as
 * rosbridge carries it) fits `fields`, and no more: rosbridge_server refuses a whole message for
 * one extra field, one null, a fraction in an integer or a sign in an unsigned one. Messages of
 * fleetdrill_msgs that a field nests are read from their files and checked the same way.
 */
function expectFits(type: string, value: Record<string, unknown>, fields: Fields): void {
  expect(value, `${type}: a message, not null`).toEqual(expect.any(Object));
  expect(Object.keys(value).sort(), `${type}: the fields sent`).toEqual([...fields.keys()].sort());
  for (const [name, rosType] of fields) expectValueFits(`${type}.${name} (${rosType})`, rosType, value[name]);
}

function expectValueFits(where: string, rosType: string, v: unknown): void {
  const array = /^(.+)\[(<=)?\d*\]$/.exec(rosType);
  if (array) {
    expect(Array.isArray(v), `${where}: an array`).toBe(true);
    (v as unknown[]).forEach((item, i) => expectValueFits(`${where}[${i}]`, array[1]!, item));
  } else if (UNSIGNED.test(rosType)) {
    expect(Number.isInteger(v) && (v as number) >= 0, `${where}: ${String(v)} is an unsigned integer`).toBe(
      true,
    );
  } else if (SIGNED.test(rosType)) {
    expect(Number.isInteger(v), `${where}: ${String(v)} is an integer`).toBe(true);
  } else if (FLOAT.test(rosType)) {
    expect(Number.isFinite(v), `${where}: ${String(v)} is a finite number`).toBe(true);
  } else if (rosType === 'string') {
    expect(typeof v, where).toBe('string');
  } else if (rosType === 'bool') {
    expect(typeof v, where).toBe('boolean');
  } else if (NESTED_FIELDS[rosType]) {
    expect(v, `${where}: a message, not null`).toEqual(expect.any(Object));
    expect(Object.keys(v as object).sort(), where).toEqual([...NESTED_FIELDS[rosType]].sort());
  } else {
    const name = rosType.replace(/^fleetdrill_msgs\//, '');
    const nested = fleetdrillInterface(`fleetdrill_msgs/msg/${name}`);
    expect(nested, `${where}: a fleetdrill_msgs message or a nested type this test knows`).toBeDefined();
    expect(read(MSGS, 'CMakeLists.txt'), `${where}: msg/${name}.msg is built`).toContain(`"msg/${name}.msg"`);
    expectFits(where, v as Record<string, unknown>, nested!.request);
  }
}

/** What robot_services.py declares: publishers, subscriptions and services, with ROS types. */
interface PythonInterface {
  publishers: Map<string, string>;
  subscriptions: Map<string, string>;
  services: Map<string, string>;
  /** Packages whose msg/srv modules it imports. */
  packages: Set<string>;
  parameters: string[];
}

function parseRobotServices(text: string): PythonInterface {
  const classes = new Map<string, string>();
  const packages = new Set<string>();
  for (const m of text.matchAll(/^from (\w+)\.(msg|srv) import ([\w, ]+)$/gm)) {
    packages.add(m[1]!);
    for (const name of m[3]!.split(',').map((s) => s.trim())) classes.set(name, `${m[1]}/${m[2]}/${name}`);
  }
  const calls = (method: string): Map<string, string> => {
    const found = new Map<string, string>();
    for (const m of text.matchAll(new RegExp(`\\.${method}\\(\\s*(\\w+),\\s*'([^']+)'`, 'g'))) {
      const type = classes.get(m[1]!);
      if (!type)
        throw new Error(`robot_services.py: ${method}(${m[1]}, ...) with a class it does not import`);
      if (found.has(m[2]!)) throw new Error(`robot_services.py: ${method} of ${m[2]} twice`);
      found.set(m[2]!, type);
    }
    return found;
  };
  const declared = /for name, default in \[([\s\S]*?)\]:\s*\n\s*self\.declare_parameter/.exec(text);
  return {
    publishers: calls('create_publisher'),
    subscriptions: calls('create_subscription'),
    services: calls('create_service'),
    packages,
    parameters: [...(declared?.[1] ?? '').matchAll(/\('(\w+)',/g)].map((m) => m[1]!),
  };
}

const bridge = parseBridgeYaml(read(PKG, 'config', 'bridge.yaml'));
const node = parseRobotServices(read(PKG, 'fleetdrill_gazebo', 'robot_services.py'));
const launchFile = read(PKG, 'launch', 'robot.launch.py');
const dockerfile = read(IMAGE_DIR, 'Dockerfile');

/** Who publishes `name` in the image, each with the type it publishes. */
function publishersOf(name: string): string[] {
  return [
    ...bridge
      .filter((b) => b.ros_topic_name === name && b.direction !== 'ROS_TO_GZ')
      .map((b) => b.ros_type_name),
    ...(node.publishers.has(name) ? [node.publishers.get(name)!] : []),
  ];
}

/** Who reads `name` in the image, each with the type it reads. */
function subscribersOf(name: string): string[] {
  return [
    ...bridge
      .filter((b) => b.ros_topic_name === name && b.direction !== 'GZ_TO_ROS')
      .map((b) => b.ros_type_name),
    ...(node.subscriptions.has(name) ? [node.subscriptions.get(name)!] : []),
  ];
}

// Catches the harness's view of the robot and the reference robot drifting apart, which would
// make the checks below check the wrong list.
test('the harness names the reference robot topics and services the reference robot has', () => {
  const pairs = (list: readonly { name: string; type: string }[]) =>
    list.map((t) => `${t.name} ${t.type}`).sort();
  expect(pairs(Object.values(ROBOT_TOPICS))).toEqual(pairs(TOPICS));
  expect(pairs(Object.values(ROBOT_SERVICES))).toEqual(pairs(SERVICES));
});

// Catches a topic missing from the image, published with another type, published twice (the
// bridge and the node both on /odom), or nobody reading a topic the harness sends.
for (const topic of TOPICS) {
  test(`${topic.name} is ${topic.direction === 'out' ? 'published' : 'read'} as ${topic.type}`, () => {
    if (topic.direction === 'out') {
      expect(publishersOf(topic.name)).toEqual([topic.type]);
    } else {
      expect(subscribersOf(topic.name).length).toBeGreaterThan(0);
      for (const type of subscribersOf(topic.name)) expect(type).toBe(topic.type);
    }
  });
}

// Catches a service missing from robot_services.py or offered with another type. Optional
// services (/fleetdrill/topic_stats) need not be there; callers fall back, but if the image offers
// one it must have the type.
for (const service of SERVICES) {
  test(`${service.name} is offered as ${service.type}${service.optional ? ' (optional)' : ''}`, () => {
    if (service.optional && !node.services.has(service.name)) return;
    expect(node.services.get(service.name)).toBe(service.type);
  });
}

// The edge agent advertises its services itself, through rosbridge_server, which must be able to
// load their types: a fleetdrill_msgs file, or a package the image has. Catches a missing .srv
// and a name clash with the robot's own services.
for (const service of Object.values(AGENT_SERVICES)) {
  test(`the agent's ${service.name} (${service.type}) can be advertised`, () => {
    expect(node.services.has(service.name), 'robot_services.py must not offer it').toBe(false);
    const pkg = service.type.split('/')[0]!;
    if (pkg === 'fleetdrill_msgs') expect(fleetdrillInterface(service.type)).toBeDefined();
    else expect(read(PKG, 'package.xml')).toContain(`<exec_depend>${pkg}</exec_depend>`);
  });
}

// Catches a type the robot or agent uses that fleetdrill_msgs does not build.
test('every fleetdrill_msgs type in use has its file and is built', () => {
  const used = new Set(
    [...TOPICS, ...SERVICES, ...Object.values(AGENT_SERVICES)]
      .map((x) => x.type)
      .filter((type) => type.startsWith('fleetdrill_msgs/')),
  );
  const cmake = read(MSGS, 'CMakeLists.txt');
  for (const type of used) {
    const [, kind, name] = type.split('/');
    expect(fleetdrillInterface(type), `${type}: ${kind}/${name}.${kind}`).toBeDefined();
    expect(cmake, `${type} in rosidl_generate_interfaces`).toContain(`"${kind}/${name}.${kind}"`);
  }
});

// Catches a field the reference robot sends that the .msg lacks (rosbridge_server refuses the
// whole message), an extra one, or one of another kind (a string where a number goes).
test('Collision and GoalStatus have the fields the reference robot publishes', () => {
  const builders = new MessageBuilders('r01');
  const collision = JSON.parse(builders.collision(150, 'shelf-2', 3, 4, 0.8)) as Record<string, unknown>;
  const goal = JSON.parse(builders.goalStatus(150, 3, 'aborted', 'e-stop', 2.5)) as Record<string, unknown>;
  expectFits('Collision', collision, fleetdrillInterface('fleetdrill_msgs/msg/Collision')!.request);
  expectFits('GoalStatus', goal, fleetdrillInterface('fleetdrill_msgs/msg/GoalStatus')!.request);
});

// Catches a GetVersion answer field the .srv lacks. The sample is typed, so a field added to
// GetVersionResponse without one here fails to compile.
test('GetVersion answers the fields the harness reads', () => {
  const sample: GetVersionResponse = { version: '1.0.0', model: 'fd-amr-1', robot_id: 'r01' };
  const srv = fleetdrillInterface('fleetdrill_msgs/srv/GetVersion')!;
  expect(srv.request.size).toBe(0);
  expectFits('GetVersion response', { ...sample }, srv.response);
});

/**
 * A real /edge_agent/status answer: the agent's encoder over a real store with two boots, metrics
 * evicted around events (several seq ranges) and fractional ages, and an uploader either fresh
 * (no error, no success yet: the values that were null) or with failures and a success.
 */
function agentStatusAnswers(): Array<[string, Record<string, unknown>]> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-contract-'));
  let clock = 1_700_000_000_000;
  const now = () => (clock += 137);
  const budgets = { metrics: 1_500, events: 1_000_000, blackbox: 1_000_000 };
  try {
    const first = AgentStore.open({ dir, budgets, now });
    for (let i = 0; i < 40; i++)
      first.take(i % 7 === 3 ? 'events' : 'metrics', 'robot', { i, pad: 'x'.repeat(40) });
    first.close();
    const store = AgentStore.open({ dir, budgets, now });
    store.take('blackbox', 'manifest', { key: 'r01/b2/1.mcap' });
    const base = {
      robot_id: 'r01',
      boot_id: store.bootId,
      accounts: store.accounts(),
      buffers: store.counters(),
      bytes_sent: { metrics: 12_345, events: 678, blackbox: 0 },
      capturing: 1,
      backlog: 3,
      drained: false,
    };
    store.close();
    const rejected = { metrics: 0, events: 0, blackbox: 0 };
    const answers = {
      fresh: { consecutiveFailures: 0, lastError: null, lastSuccessAt: null, rejected },
      busy: { consecutiveFailures: 3, lastError: 'cloud: 503', lastSuccessAt: clock, rejected },
    };
    return Object.entries(answers).map(([name, uploader]) => [
      name,
      JSON.parse(JSON.stringify(toStatusResponse({ ...base, uploader }))) as Record<string, unknown>,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Catches an agent answer rosbridge_server could not put into AgentStatus.srv's response: a field
// the .srv (or a message it nests) lacks or has more of, a null, a camelCase name, an integer
// field holding a fraction. The sample covers every list and the never-uploaded case.
test('AgentStatus.srv carries the whole agent answer', () => {
  const srv = fleetdrillInterface('fleetdrill_msgs/srv/AgentStatus')!;
  expect(srv.request.size, 'AgentStatus takes no request fields').toBe(0);
  const answers = agentStatusAnswers();
  const [, busy] = answers.find(([name]) => name === 'busy')!;
  const accounts = busy.accounts as Array<{ evicted_seqs: { metrics: unknown[] } }>;
  expect(accounts.length, 'the sample has several boots').toBe(2);
  expect(accounts[0]!.evicted_seqs.metrics.length, 'the sample has evicted ranges').toBeGreaterThan(1);
  for (const [name, answer] of answers) expectFits(`AgentStatus response (${name})`, answer, srv.response);
});

// Catches ArmPowerCut.srv missing the agent's reply fields.
test('ArmPowerCut answers success and message as the agent does', () => {
  const srv = fleetdrillInterface('fleetdrill_msgs/srv/ArmPowerCut')!;
  expect(Object.fromEntries(srv.response)).toEqual({ success: 'bool', message: 'string' });
});

// Catches the agent's request schema and ArmPowerCut.srv drifting apart: a field the agent reads
// that the .srv cannot declare (afterBytes), or one rosbridge_server forwards that the agent's
// strict schema refuses. rosbridge_server forwards every request field, defaults included.
test('ArmPowerCut declares exactly the request fields the agent accepts', () => {
  const srv = fleetdrillInterface('fleetdrill_msgs/srv/ArmPowerCut')!;
  for (const field of Object.keys(armedFaultSchema.shape))
    expect(field, `the agent's arm_power_cut request field ${field}`).toMatch(ROS_FIELD_NAME);
  expect(Object.keys(armedFaultSchema.shape).sort()).toEqual([...srv.request.keys()].sort());
  expect(Object.fromEntries(srv.request)).toEqual({ at: 'string', after_bytes: 'uint64' });
  const asForwarded = { at: 'ArtifactInstall_Enter', after_bytes: 0 };
  expect(armedFaultSchema.safeParse(asForwarded).success, JSON.stringify(asForwarded)).toBe(true);
  expect(armedFaultSchema.parse({ ...asForwarded, after_bytes: 4096 }).after_bytes).toBe(4096);
});

// Catches a field name rosidl would reject, which breaks the image build, not a test run.
test('every fleetdrill_msgs field name is one rosidl accepts', () => {
  const cmake = read(MSGS, 'CMakeLists.txt');
  const files = [...cmake.matchAll(/"((msg|srv)\/\w+\.(msg|srv))"/g)].map((m) => m[1]!);
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) {
    const [kind, rest] = file.split('/');
    const parsed = fleetdrillInterface(`fleetdrill_msgs/${kind}/${rest!.split('.')[0]}`);
    expect(parsed, file).toBeDefined();
    for (const name of [...parsed!.request.keys(), ...parsed!.response.keys()])
      expect(name, file).toMatch(ROS_FIELD_NAME);
  }
});

// Catches an image the docker backend cannot run: a missing build arg, another entrypoint, a
// missing env of the contract (the ready line would go to fd 3, which a container lacks), a
// setup script the build does not produce, no rosbridge port.
test('the Dockerfile follows the docker backend contract', () => {
  expect(dockerfile).toMatch(/^ARG BASE_IMAGE=ros:jazzy-ros-base$/m);
  expect(dockerfile).toMatch(/^FROM \$\{BASE_IMAGE\}/m);
  expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/robot-host\.mjs"\]$/m);
  expect(dockerfile).toMatch(/^EXPOSE 9090$/m);
  const env = new Map(
    [...dockerfile.matchAll(/^(?:ENV |\s+)([A-Z_]+)=(\S+?)(?: \\)?$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  expect(env.get(READY_TO_ENV)).toBe('stdout');
  expect(env.get(LIFELINE_ENV)).toBe('none');
  expect(env.get(ROBOT_STACK_ENV)).toBe('gazebo');
  const setup = env.get(ROS_SETUP_ENV);
  expect(setup).toBe('/opt/fleetdrill_ws/install/setup.sh');
  expect(dockerfile).toContain('WORKDIR /opt/fleetdrill_ws\n');
  expect(dockerfile).toContain('colcon build --merge-install');
  expect(dockerfile).toContain('COPY --from=build /opt/fleetdrill_ws/install/ /opt/fleetdrill_ws/install/');
  for (const pkg of ['ros-jazzy-ros-gz', 'ros-jazzy-rosbridge-server']) expect(dockerfile).toContain(pkg);
});

// Catches a COPY of something the staged context will not hold: the harness stages bundles/
// beside this folder's files, nothing else.
test('the Dockerfile copies only what the staged context holds', () => {
  const sources = [...dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/));
  expect(sources).toEqual(
    expect.arrayContaining([
      'bundles/robot-host.mjs',
      'bundles/edge-agent.mjs',
      'fleetdrill_msgs/',
      'fleetdrill_gazebo/',
    ]),
  );
  for (const source of sources) {
    if (source.startsWith('bundles/'))
      expect(source).toMatch(/^bundles\/(robot-host|edge-agent)\.mjs(\.map)?$/);
    else expect(existsSync(join(IMAGE_DIR, source)), source).toBe(true);
  }
});

/** The launch file's ARGUMENTS table: name → whether it has a default. */
function declaredLaunchArguments(): Map<string, boolean> {
  const table = /^ARGUMENTS = \[([\s\S]*?)^\]/m.exec(launchFile)?.[1] ?? '';
  return new Map([...table.matchAll(/^\s+\('(\w+)', (None|'[^']*')/gm)].map((m) => [m[1]!, m[2] !== 'None']));
}

// Catches gazebo-stack.ts passing an argument the launch does not declare (ros2 launch only
// warns, and the value is lost) or the launch needing one gazebo-stack.ts does not pass.
test('the launch declares every argument gazebo-stack.ts passes, and needs no other', () => {
  const declared = declaredLaunchArguments();
  expect(declared.size).toBeGreaterThan(5);
  const passed = launchArguments(
    {
      id: 'r01',
      world: 'warehouse',
      spawnIndex: 0,
      host: '0.0.0.0',
      port: 9090,
      version: '1.0.0',
      disk: '/fleetdrill/disk',
      selfTestFailures: ['x'],
    },
    9090,
  );
  for (const name of Object.keys(passed)) expect(declared.has(name), `launch argument ${name}`).toBe(true);
  for (const [name, hasDefault] of declared) if (!hasDefault) expect(Object.keys(passed)).toContain(name);
  for (const m of launchFile.matchAll(/\barg\('(\w+)'\)/g)) expect(declared.has(m[1]!), m[1]).toBe(true);
  expect(GAZEBO_LAUNCH_COMMAND).toEqual(['ros2', 'launch', 'fleetdrill_gazebo', 'robot.launch.py']);
});

// Catches a launch that would open a GUI, not start at once, lack a node of the stack, or hand
// the services node parameters it does not declare (rclpy refuses undeclared ones).
test('the launch runs gz sim headless and every node of the stack', () => {
  expect(launchFile).toMatch(/cmd=\['gz', 'sim', '-s', '-r', '--headless-rendering'/);
  for (const [pkg, exe] of [
    ['ros_gz_sim', 'create'],
    ['ros_gz_bridge', 'parameter_bridge'],
    ['rosbridge_server', 'rosbridge_websocket'],
    ['fleetdrill_gazebo', 'robot_services'],
  ]) {
    expect(launchFile).toMatch(new RegExp(`package='${pkg}',\\s*executable='${exe}'`));
  }
  expect(launchFile).toContain("'port': int(arg('rosbridge_port'))");
  expect(launchFile).toContain("os.path.join(share, 'config', 'bridge.yaml')");
  expect(read(PKG, 'setup.py')).toContain("'robot_services = fleetdrill_gazebo.robot_services:main'");
  const servicesParams = /executable='robot_services'[\s\S]*?parameters=\[\s*\{([\s\S]*?)\}\s*\]/.exec(
    launchFile,
  );
  const passed = [...(servicesParams?.[1] ?? '').matchAll(/'(\w+)':/g)].map((m) => m[1]!);
  expect(passed.filter((p) => p !== 'use_sim_time').sort()).toEqual([...node.parameters].sort());
});

// Catches a node importing types from a package the image does not declare.
test('robot_services.py uses only packages fleetdrill_gazebo depends on', () => {
  const xml = read(PKG, 'package.xml');
  expect(node.packages.size).toBeGreaterThan(3);
  for (const pkg of node.packages) expect(xml, pkg).toContain(`<exec_depend>${pkg}</exec_depend>`);
});

const worldSdf = read(PKG, 'worlds', 'warehouse.sdf');
const modelSdf = read(PKG, 'models', 'fd_amr_1', 'model.sdf');

// Catches a world without a system the stack needs: no physics, no sensors rendering (no
// /scan), no IMU or contact system (no /imu, no /bumper), no UserCommands (spawning fails).
test('the world loads the gz-sim systems the robot needs', () => {
  for (const system of ['Physics', 'SceneBroadcaster', 'UserCommands', 'Sensors', 'Imu', 'Contact']) {
    expect(worldSdf).toMatch(
      new RegExp(`<plugin filename="gz-sim-[a-z-]+-system" name="gz::sim::systems::${system}"`),
    );
  }
  expect(worldSdf).toMatch(/<render_engine>ogre2<\/render_engine>/);
  expect(worldSdf).toContain('<real_time_factor>REAL_TIME_FACTOR</real_time_factor>');
  expect(launchFile).toContain("replace('REAL_TIME_FACTOR'");
});

// Catches a gz world that is not the fleetdrill world: walls or obstacles missing, moved or
// renamed (the names are /bumper's obstacle names), so drills' places and dead zones would lie.
test('warehouse.sdf has the walls and obstacles of warehouse.json', () => {
  const world = loadWorld(resolveWorldPath('warehouse'));
  expect(worldSdf).toContain(`<world name="${world.name}">`);
  const models = new Map(
    [
      ...worldSdf.matchAll(
        /<model name="([^"]+)">\s*<static>true<\/static>\s*<pose>([^<]+)<\/pose>[\s\S]*?<size>([^<]+)<\/size>/g,
      ),
    ].map((m) => [m[1]!, { pose: m[2]!.split(' ').map(Number), size: m[3]!.split(' ').map(Number) }]),
  );
  const close = (a: number, b: number, what: string) => expect(Math.abs(a - b), what).toBeLessThan(1e-6);
  for (const o of world.obstacles) {
    const m = models.get(o.name);
    expect(m, o.name).toBeDefined();
    close(m!.pose[0]!, (o.min[0] + o.max[0]) / 2, `${o.name} x`);
    close(m!.pose[1]!, (o.min[1] + o.max[1]) / 2, `${o.name} y`);
    close(m!.size[0]!, o.max[0] - o.min[0], `${o.name} width`);
    close(m!.size[1]!, o.max[1] - o.min[1], `${o.name} depth`);
  }
  for (const w of world.walls) {
    const m = models.get(w.name);
    expect(m, w.name).toBeDefined();
    close(m!.pose[0]!, (w.from[0] + w.to[0]) / 2, `${w.name} x`);
    close(m!.pose[1]!, (w.from[1] + w.to[1]) / 2, `${w.name} y`);
    close(m!.size[0]!, Math.hypot(w.to[0] - w.from[0], w.to[1] - w.from[1]), `${w.name} length`);
    close(m!.pose[5]!, Math.atan2(w.to[1] - w.from[1], w.to[0] - w.from[0]), `${w.name} yaw`);
  }
  expect(worldSdf).toContain('<model name="boundary">');
});

// Catches a bridged gz topic nobody publishes (a sensor's <topic> renamed) or a command topic
// the drive does not read: the ROS side would exist and stay silent.
test('every bridged gz topic has its gz publisher or reader in the model', () => {
  const sensorTopics = [...modelSdf.matchAll(/<topic>([^<]+)<\/topic>/g)].map((m) => m[1]!);
  const odom = /<odom_topic>([^<]+)<\/odom_topic>/.exec(modelSdf)?.[1];
  for (const entry of bridge) {
    if (entry.direction === 'GZ_TO_ROS') {
      if (entry.gz_topic_name === '/clock') continue;
      expect([...sensorTopics, odom], entry.gz_topic_name).toContain(entry.gz_topic_name);
    } else {
      expect(modelSdf, entry.gz_topic_name).toContain(`<topic>${entry.gz_topic_name}</topic>`);
    }
  }
  // What the node drives the wheels with is what the bridge carries to gz.
  const drive = bridge.find(
    (b) => b.direction === 'ROS_TO_GZ' && b.ros_type_name === 'geometry_msgs/msg/Twist',
  );
  expect(node.publishers.get(drive!.ros_topic_name)).toBe('geometry_msgs/msg/Twist');
  expect(bridge.find((b) => b.ros_topic_name === '/clock')?.ros_type_name).toBe('rosgraph_msgs/msg/Clock');
});

// Catches a lidar that does not scan as the reference robot's: /scan consumers index beams.
test('the lidar scans as the reference robot does', () => {
  const lidar = /<sensor name="lidar" type="gpu_lidar">([\s\S]*?)<\/sensor>/.exec(modelSdf)?.[1] ?? '';
  const value = (tag: string) => Number(new RegExp(`<${tag}>([^<]+)</${tag}>`).exec(lidar)?.[1]);
  expect(value('samples')).toBe(LIDAR.beams);
  expect(value('min_angle')).toBeCloseTo(LIDAR.angleMin, 9);
  expect(value('max_angle')).toBeCloseTo(LIDAR.angleMin + (LIDAR.beams - 1) * LIDAR.angleIncrement, 9);
  expect(value('min')).toBe(LIDAR.rangeMin);
  expect(value('max')).toBe(LIDAR.rangeMax);
  expect(value('update_rate')).toBe(ROBOT_TOPICS.scan.hz);
  expect(lidar).toContain('<gz_frame_id>base_scan</gz_frame_id>');
});
