/**
 * One list of toxic names for the whole house: the server's registry implements them (its own
 * test says so), and here the config schema, the CLI help and the fault docs must name exactly
 * the registry's toxics, so a toxic added there shows up everywhere or a test says where not.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { DEFAULT_CONFIG, validateConfig } from '../core/config.ts';
import { REPO_ROOT } from '../core/paths.ts';
import { toxicTypeNames } from '../net/toxiproxy/index.ts';
import { buildProgram } from './main.ts';

function withToxic(type: string): unknown {
  return {
    ...DEFAULT_CONFIG,
    net: { profiles: { custom: { toxics: [{ type, stream: 'downstream', attributes: {} }] } } },
  };
}

test('the config schema accepts every toxic the server implements, and no other', () => {
  const names = toxicTypeNames();
  for (const name of names) expect(() => validateConfig(withToxic(name)), name).not.toThrow();
  const refused = (() => {
    try {
      validateConfig(withToxic('packet_magic'));
    } catch (error) {
      return (error as Error).message;
    }
  })();
  expect(refused).toBe(
    `net.profiles.custom.toxics[0].type must be one of ${names.map((name) => `"${name}"`).join(', ')}`,
  );
});

test("the toxiproxy command's help lists every toxic the server implements", () => {
  const command = buildProgram().commands.find((candidate) => candidate.name() === 'toxiproxy');
  const help = command?.helpInformation().replace(/\s+/g, ' ');
  expect(help).toContain(`(toxics: ${toxicTypeNames().join(', ')})`);
});

test('the network-faults page names every toxic the server implements', () => {
  const page = readFileSync(join(REPO_ROOT, 'docs/network-faults.md'), 'utf8');
  const listed = /toxics (`[a-z_]+`(?:,\s+`[a-z_]+`)*)/.exec(page)?.[1];
  expect(listed?.match(/[a-z_]+/g)).toEqual(toxicTypeNames());
});
