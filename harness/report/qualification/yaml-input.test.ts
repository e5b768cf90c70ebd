import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import { MAX_YAML_DEPTH, parseYaml } from './yaml-input.ts';

const flow = (depth: number): string => `{"x": ${'['.repeat(depth)}${']'.repeat(depth)}}`;

test('deeply nested YAML is a ConfigError naming the file and line, and parse after parse never kills the process', () => {
  // Before the depth check, this sequence ended in a fatal out-of-memory in V8's regexp compiler.
  for (const depth of [100, 1_000, 5_000, 20_000]) {
    const parse = () => parseYaml(`suite: x\n${flow(depth)}`, 'deep.yaml');
    if (depth <= MAX_YAML_DEPTH) continue;
    expect(parse).toThrow(ConfigError);
    expect(parse).toThrow(`deep.yaml:2 is not valid YAML: nests deeper than ${MAX_YAML_DEPTH} levels`);
  }
  const dashes = `a: 1\n${'- '.repeat(MAX_YAML_DEPTH + 1)}x`;
  expect(() => parseYaml(dashes, 'dashes.yaml')).toThrow('dashes.yaml:2 is not valid YAML: nests deeper');
  // Level i is indented 2i columns: level MAX + 1, on line MAX + 2, is the first too deep.
  const indented = Array.from({ length: MAX_YAML_DEPTH + 2 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
  expect(() => parseYaml(`${indented} 1`, 'indent.yaml')).toThrow(
    `indent.yaml:${MAX_YAML_DEPTH + 2} is not valid YAML`,
  );
});

test('nesting up to the limit parses', () => {
  expect(parseYaml(flow(MAX_YAML_DEPTH - 1), 'ok.yaml').value).toEqual({
    x: JSON.parse('['.repeat(MAX_YAML_DEPTH - 1) + ']'.repeat(MAX_YAML_DEPTH - 1)),
  });
  const nested = Array.from({ length: 20 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n');
  const value = parseYaml(`${nested} 1`, 'ok.yaml').value as Record<string, Record<string, unknown>>;
  expect(Object.keys(value.k0!)).toEqual(['k1']);
});
