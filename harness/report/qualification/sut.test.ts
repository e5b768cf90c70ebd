import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { expect, test } from '@playwright/test';
import { buildArtifact } from '../../ota/build.ts';
import { SUT_VERSION_SOURCE, findSutFiles, recordSut } from './sut.ts';

let scratch: string;
test.beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fleetdrill-sut-'));
});
test.afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const sha256 = async (path: string): Promise<string> =>
  `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`;

async function artifact(name: string, version: string): Promise<string> {
  const built = await buildArtifact({
    name,
    version,
    compatibleModels: ['fd-amr-1'],
    payload: Buffer.from(`the ${name} ${version} slot image`),
    privateKey: generateKeyPairSync('ed25519').privateKey,
    out: join(scratch, `${name}-${version}.fdart`),
  });
  return built.path;
}

async function onnxModel(file: string, modelVersion?: number): Promise<string> {
  const model = onnxProto.onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    ...(modelVersion === undefined ? {} : { modelVersion }),
    graph: { name: 'g', node: [{ opType: 'Identity', input: ['x'], output: ['y'] }] },
  });
  await writeFile(file, onnxProto.onnx.ModelProto.encode(model).finish());
  return file;
}

test('digests are the files’ SHA-256, versions what the files state, sources their paths', async () => {
  const robot = await artifact('robot-sim', '2.4.0');
  const update = await artifact('robot-sim', '2.4.1-rc.1');
  const agent = join(scratch, 'edge-agent.mjs');
  await writeFile(agent, 'export const agent = 1;\n');
  const model = await onnxModel(join(scratch, 'versioned.onnx'), 7);

  const sut = await recordSut({
    release: '2.4.0',
    robotBundle: robot,
    agentBundle: agent,
    hilModel: model,
    otaArtifacts: [update],
  });
  expect(sut).toEqual({
    release: '2.4.0',
    components: [
      { name: 'robot', version: '2.4.0', digest: await sha256(robot), source: robot },
      { name: 'edge-agent', digest: await sha256(agent), source: agent },
      { name: 'hil-model', version: '7', digest: await sha256(model), source: model },
      { name: 'ota-artifact', version: '2.4.1-rc.1', digest: await sha256(update), source: update },
    ],
  });
});

test('a model without model_version takes the version of a spec that describes its bytes, and only then', async () => {
  const model = await onnxModel(join(scratch, 'm.onnx'));
  const digest = await sha256(model);
  const spec = join(scratch, 'm.json');
  await writeFile(
    spec,
    JSON.stringify({ name: 'm', sha256: digest.slice('sha256:'.length), version: '3.1' }),
  );
  expect((await recordSut({ release: 'r', hilModel: model })).components[0]?.version).toBe('3.1');
  await writeFile(spec, JSON.stringify({ name: 'm', sha256: 'f'.repeat(64), version: '3.1' }));
  expect((await recordSut({ release: 'r', hilModel: model })).components[0]).not.toHaveProperty('version');
});

test('the reference model: its digest matches its spec, and paths in the repository read relative', async () => {
  const { hilModel } = { hilModel: 'reference/models/perception-cnn.onnx' };
  const spec = JSON.parse(await readFile('reference/models/perception-cnn.json', 'utf8')) as {
    sha256: string;
  };
  const [component] = (await recordSut({ release: 'r', hilModel })).components;
  expect(component).toEqual({
    name: 'hil-model',
    digest: `sha256:${spec.sha256}`,
    source: 'reference/models/perception-cnn.onnx',
  });
});

test('a missing or unreadable file is an error naming the option and the file', async () => {
  const missing = join(scratch, 'nope.mjs');
  await expect(recordSut({ release: 'r', cloudBundle: missing })).rejects.toThrow(
    `cloudBundle ${missing}: cannot be read (ENOENT)`,
  );
  const good = await artifact('robot-sim', '1.0.0');
  await expect(recordSut({ release: 'r', otaArtifacts: [good, missing] })).rejects.toThrow(
    `otaArtifacts[1] ${missing}: cannot be read`,
  );
  const torn = join(scratch, 'torn.fdart');
  await writeFile(
    torn,
    Buffer.concat([Buffer.from('FDART001'), Buffer.from([0, 0, 0, 9]), Buffer.from('{"manif')]),
  );
  await expect(recordSut({ release: 'r', robotBundle: torn })).rejects.toThrow(
    `robotBundle ${torn}: is not a readable OTA artifact`,
  );
  const fake = join(scratch, 'fake.onnx');
  await writeFile(fake, 'not protobuf at all, just words');
  await expect(recordSut({ release: 'r', hilModel: fake })).rejects.toThrow(
    `hilModel ${fake}: is not an ONNX model`,
  );
  await expect(recordSut({ release: '' })).rejects.toThrow('release is required');
});

test('--sut-version wins over what the files say, and says so; the digests stay the files’', async () => {
  const robot = await artifact('robot-sim', '1.0.0');
  const sut = await recordSut({ release: '2.4.0', sutVersion: '2.4.0+build.77', robotBundle: robot });
  expect(sut.components).toEqual([
    { name: 'robot', version: '2.4.0+build.77', digest: await sha256(robot), source: SUT_VERSION_SOURCE },
  ]);
  expect(SUT_VERSION_SOURCE).toBe('--sut-version');
  expect((await recordSut({ release: '2.4.0', sutVersion: '2.4.0' })).components).toEqual([
    { name: 'sut', version: '2.4.0', source: '--sut-version' },
  ]);
  expect((await recordSut({ release: '2.4.0' })).components).toEqual([]);
});

test('a robot image with no Docker engine is "not read", with why, rather than an error', async () => {
  const before = process.env.DOCKER_HOST;
  const socket = join(scratch, 'no-engine.sock');
  process.env.DOCKER_HOST = `unix://${socket}`;
  try {
    const sut = await recordSut({ release: 'r', robotImage: 'fleetdrill/robot-gazebo:dev', sutVersion: '9' });
    expect(sut.components).toEqual([
      {
        name: 'robot-image',
        version: '9',
        source: `not read: no Docker engine answers at unix://${socket} (ENOENT); image fleetdrill/robot-gazebo:dev`,
      },
    ]);
  } finally {
    if (before === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = before;
  }
});

test('findSutFiles finds the reference stack the fleet runs, and recordSut reads it', async () => {
  const files = await findSutFiles();
  expect(files.agentBundle).toMatch(/\.fleetdrill\/build\/edge-agent\.mjs$/);
  expect(files.cloudBundle).toMatch(/\.fleetdrill\/build\/fleet-cloud\.mjs$/);
  expect(files.hilModel).toMatch(/reference\/models\/perception-cnn\.onnx$/);
  const sut = await recordSut({ release: '2.4.0', ...files });
  expect(sut.components.map((c) => [c.name, c.version])).toEqual([
    ['robot', '1.0.0'],
    ['edge-agent', undefined],
    ['cloud', undefined],
    ['hil-model', undefined],
  ]);
  expect(sut.components.every((c) => /^sha256:[0-9a-f]{64}$/.test(c.digest ?? ''))).toBe(true);
  expect(sut.components[0]?.source).toMatch(
    /^\.fleetdrill\/ota\/robot-sim-1\.0\.0-good-[0-9a-f]{16}\.fdart$/,
  );
});
