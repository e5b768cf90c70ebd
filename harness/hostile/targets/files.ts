import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYamlText, stringify as yamlText } from 'yaml';
import { loadWorld, WorldError } from '../../../protocol/world.ts';
import { ConfigError } from '../../core/index.ts';
import { REPO_ROOT } from '../../core/index.ts';
import { loadQosContract, QOS_CONTRACT_DIR } from '../../qos/index.ts';
import { loadQualificationFile } from '../../report/qualification/requirements.ts';
import { loaderTarget } from './loader-target.ts';

const readJson = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));

/** World files (reference/worlds/*.json), loaded as a robot loads its world. */
export const worldFileTarget = loaderTarget({
  name: 'world-file',
  fileName: 'hostile-world.json',
  valid: () => readJson(join(REPO_ROOT, 'reference', 'worlds', 'warehouse.json')),
  load: (path) => loadWorld(path),
  expected: [WorldError],
});

/** QoS contracts (reference/qos/*.json), loaded as `fleetdrill qos` loads them. */
export const qosContractFileTarget = loaderTarget({
  name: 'qos-contract-file',
  fileName: 'hostile-qos.json',
  valid: () => readJson(join(QOS_CONTRACT_DIR, 'fd-amr-1.json')),
  load: (path) => loadQosContract(path),
  expected: [ConfigError],
});

/** The qualification file (qualification.yaml), loaded as `fleetdrill qualify` loads it. */
export const qualificationFileTarget = loaderTarget({
  name: 'qualification-file',
  fileName: 'hostile-qualification.yaml',
  valid: () => parseYamlText(readFileSync(join(REPO_ROOT, 'qualification.yaml'), 'utf8')) as unknown,
  encode: (value) => yamlText(value),
  load: (path) => loadQualificationFile(path),
  expected: [ConfigError],
});
