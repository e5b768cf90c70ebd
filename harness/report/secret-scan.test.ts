import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { plantedSecret } from '../core/secrets.ts';
import { describeOccurrences, scanForSecret, secretForms } from './secret-scan.ts';

test.describe('secret scan', () => {
  let dir: string;
  test.beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-scan-'));
  });
  test.afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a secret written into a reports dir is found with its file and line', async () => {
    const secret = plantedSecret({});
    await mkdir(join(dir, 'allure-results'), { recursive: true });
    await writeFile(join(dir, 'allure-results', 'a-attachment.txt'), `robot r01\nenv: X=${secret}\n`);
    await writeFile(join(dir, 'clean.json'), JSON.stringify({ robot: 'r01', ok: true }));
    const found = await scanForSecret([dir, join(dir, 'allure-results')], secret, dir);
    expect(found).toEqual([{ file: join('allure-results', 'a-attachment.txt'), line: 2, encoding: 'plain' }]);
    expect(describeOccurrences(found)).toBe(`${join('allure-results', 'a-attachment.txt')}:2 (plain)`);
  });

  test('a secret inside a base64 attachment body is found at every byte alignment', async () => {
    const secret = plantedSecret({});
    for (const prefix of ['', 'a', 'ab', 'abc', 'log line\n']) {
      const body = Buffer.from(`${prefix}${secret} and the rest of the log`).toString('base64');
      await writeFile(
        join(dir, 'results.json'),
        `{\n  "attachments": [\n    { "body": "${body}" }\n  ]\n}\n`,
      );
      expect(await scanForSecret([dir], secret, dir), `prefix '${prefix}'`).toEqual([
        { file: 'results.json', line: 3, encoding: 'base64' },
      ]);
    }
  });

  test('hex, percent-encoded and JSON-escaped forms are found too', async () => {
    const secret = 'p@ss "word"/1';
    expect(secretForms(secret).map((form) => form.encoding)).toEqual(
      expect.arrayContaining(['plain', 'base64', 'hex', 'url', 'json']),
    );
    await writeFile(join(dir, 'a.txt'), Buffer.from(secret).toString('hex'));
    await writeFile(join(dir, 'b.txt'), `GET /x?q=${encodeURIComponent(secret)}`);
    await writeFile(join(dir, 'c.json'), JSON.stringify({ note: secret }));
    const found = await scanForSecret([dir], secret, dir);
    expect(found.map((o) => `${o.file} ${o.encoding}`).sort()).toEqual([
      'a.txt hex',
      'b.txt url',
      'c.json json',
    ]);
  });

  test('a clean tree and a missing root find nothing', async () => {
    await writeFile(join(dir, 'a.txt'), 'FLEETDRILL_PLANTED_SECRET=[redacted: planted secret]\n');
    expect(await scanForSecret([dir, join(dir, 'missing')], plantedSecret({}))).toEqual([]);
  });
});
