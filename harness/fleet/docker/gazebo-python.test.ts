// The Gazebo image's Python (docker/robot-gazebo) runs only inside the image, which no machine here
// can build (no registry): byte-compiling it is what makes a typo in it fail `npm test`, not a robot.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { expect, test } from '@playwright/test';
import { REPO_ROOT } from '../../core/paths.ts';

const IMAGE_DIR = join(REPO_ROOT, 'docker', 'robot-gazebo');

/** Every .py file under `dir`, recursively. */
function pythonFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.py'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/**
 * Runs `python3 -m py_compile` on the files in one process (it goes on past a failing file) and
 * resolves with what it printed about the failures: empty when every file compiles. The bytecode
 * goes to a temp dir (PYTHONPYCACHEPREFIX), so no __pycache__ is left beside the sources.
 */
async function compileProblems(files: string[]): Promise<string> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'fleetdrill-pycache-'));
  try {
    return await new Promise<string>((resolve, reject) => {
      execFile(
        'python3',
        ['-m', 'py_compile', ...files],
        { env: { ...process.env, PYTHONPYCACHEPREFIX: cacheDir }, timeout: 20_000 },
        (error, _stdout, stderr) => {
          if (error && 'code' in error && error.code === 'ENOENT') {
            reject(new Error('python3 not found: install it (apt-get install python3)'));
          } else {
            resolve(error ? stderr.trim() || error.message : '');
          }
        },
      );
    });
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

test('the Gazebo image`s Python (services node, launch file, setup) byte-compiles', async () => {
  const files = pythonFiles(IMAGE_DIR);
  const names = files.map((file) => relative(IMAGE_DIR, file));
  // The files the image runs must be among those checked, so a move cannot empty the check.
  expect(names).toEqual(
    expect.arrayContaining([
      'fleetdrill_gazebo/fleetdrill_gazebo/robot_services.py',
      'fleetdrill_gazebo/launch/robot.launch.py',
    ]),
  );
  expect(await compileProblems(files)).toBe('');
  expect(pythonFiles(IMAGE_DIR).length, 'py_compile left files in the tree').toBe(files.length);
  expect(
    readdirSync(IMAGE_DIR, { recursive: true }).some((name) => String(name).includes('__pycache__')),
  ).toBe(false);
});

test('a Python file with a syntax error fails the check, naming the file and line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fleetdrill-pybad-'));
  try {
    const file = join(dir, 'robot_services.py');
    writeFileSync(file, 'import rclpy\n\ndef on_estop(request:\n    return request\n');
    // Among the image's good files, as the real check runs it: one bad file is enough to fail.
    const problems = await compileProblems([...pythonFiles(IMAGE_DIR), file]);
    expect(problems).toContain(file);
    expect(problems).toMatch(/SyntaxError/);
    expect(problems).toMatch(/line 3/);
    expect(existsSync(join(dir, '__pycache__'))).toBe(false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
