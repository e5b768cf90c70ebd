import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { sweepStaleVpn, vpnPrivileges } from '../net/vpn/index.ts';
import { listeningPorts, processesWithEnv, runDirsIn, settle } from '../testing/leftovers.ts';
import { nestedRun, type NestedRun } from '../testing/nested-run.ts';
import { sweepStaleRunDirs } from './run-dir.ts';

/*
 * A VPN fleet's drill in a nested run, ending by a pass, a failure and Ctrl-C: none of its
 * namespaces, tun devices, nft tables or processes (wireguard-go among them) is left. The tunnel
 * names what it makes after the worker that owns it (its pid), so other runs' are not counted.
 */

const run = promisify(execFile);
const privileges = vpnPrivileges();

/** Namespaces, links and nft tables whose name carries `pid`, as `kind name`. */
async function vpnLeftovers(pid: number): Promise<string[]> {
  const owned = (name: string) => new RegExp(`(^|\\D)${pid}(\\D|$)`).test(name);
  const [netns, links, tables] = await Promise.all([
    run('ip', ['netns', 'list']).then(({ stdout }) =>
      stdout.split('\n').map((line) => line.split(' ')[0] ?? ''),
    ),
    run('ip', ['-o', 'link', 'show']).then(({ stdout }) =>
      stdout.split('\n').map((line) => (/^\d+: ([^:@]+)/.exec(line)?.[1] ?? '').trim()),
    ),
    run('nft', ['list', 'tables']).then(({ stdout }) => stdout.split('\n').map((line) => line.trim())),
  ]);
  return [
    ...netns.filter((name) => name && owned(name)).map((name) => `netns ${name}`),
    ...links.filter((name) => name && owned(name)).map((name) => `link ${name}`),
    ...tables.filter((line) => line && owned(line)).map((line) => `nft ${line}`),
  ];
}

async function expectNothingLeft(nested: NestedRun): Promise<void> {
  expect(nested.ports.length, `the drill did not report its robots:\n${nested.output}`).toBe(2);
  expect(nested.workerPid, 'the worker named itself').toBeDefined();
  expect(
    await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', nested.tag)),
    'processes left',
  ).toEqual([]);
  expect(await settle(() => listeningPorts(nested.ports)), 'ports still listening').toEqual([]);
  expect(await settle(() => vpnLeftovers(nested.workerPid!)), 'namespaces, links, nft tables left').toEqual(
    [],
  );
  expect(runDirsIn(nested.tmp), 'run dirs left in TMPDIR').toEqual([]);
}

test('the leftover check finds a namespace named after its owner', async () => {
  test.skip(!privileges.ok, `needs WireGuard: ${privileges.ok ? '' : privileges.missing}`);
  const name = `fd-hygiene-${process.pid}`;
  await run('ip', ['netns', 'add', name]);
  try {
    expect(await vpnLeftovers(process.pid)).toContain(`netns ${name}`);
    expect(await vpnLeftovers(process.pid + 1_000_000)).not.toContain(`netns ${name}`);
  } finally {
    await run('ip', ['netns', 'del', name]);
  }
});

test.describe('hygiene: nothing of a VPN fleet outlives its run', () => {
  test.skip(!privileges.ok, `needs WireGuard: ${privileges.ok ? '' : privileges.missing}`);
  test.describe.configure({ mode: 'default', timeout: 150_000 });
  let nested: NestedRun | undefined;
  test.afterEach(() => {
    if (nested) rmSync(nested.tmp, { recursive: true, force: true });
    nested = undefined;
  });

  test('after a passing run', async () => {
    nested = await nestedRun('pass', undefined, { HYGIENE_VPN: '1' });
    expect(nested.exitCode, nested.output).toBe(0);
    await expectNothingLeft(nested);
  });

  test('after a failing run', async () => {
    nested = await nestedRun('fail', undefined, { HYGIENE_VPN: '1' });
    expect(nested.exitCode, nested.output).toBe(1);
    expect(nested.output).toContain('this drill fails on purpose');
    await expectNothingLeft(nested);
  });

  test('after Ctrl-C (SIGINT to the runner and its workers) in the middle of a drill', async () => {
    let during: string[] = [];
    nested = await nestedRun(
      'hang',
      {
        signal: 'SIGINT',
        target: 'group',
        // The fleet is a VPN fleet: its namespaces are there, and this check sees them.
        before: async (tmp) => {
          const { pid } = JSON.parse(readFileSync(join(tmp, 'marker.json'), 'utf8')) as { pid: number };
          during = await vpnLeftovers(pid);
        },
      },
      { HYGIENE_VPN: '1' },
    );
    expect(
      during.filter((thing) => thing.startsWith('netns ')).length,
      'namespaces of the VPN fleet during the drill',
    ).toBeGreaterThanOrEqual(5);
    expect(nested.exitCode, nested.output).not.toBe(0);
    await expectNothingLeft(nested);
  });

  test('after the runner is SIGKILLed: robots power off by their lifeline, the next start sweeps the tunnel', async () => {
    nested = await nestedRun('hang', { signal: 'SIGKILL', target: 'group' }, { HYGIENE_VPN: '1' });
    const { workerPid, tag, ports, tmp } = nested;
    expect(workerPid, 'the worker named itself').toBeDefined();
    // Nothing could clean up after SIGKILL: the next fleet's start sweeps (startVpnHub does), once
    // the owner is gone (a SIGKILLed worker may take a moment to be reaped).
    const left = await settle(async () => {
      await sweepStaleVpn();
      return vpnLeftovers(workerPid!);
    }, 15_000);
    expect(left, 'namespaces, links, nft tables left after the sweep').toEqual([]);
    expect(await settle(() => processesWithEnv('FLEETDRILL_HYGIENE_TAG', tag)), 'processes left').toEqual([]);
    expect(await settle(() => listeningPorts(ports)), 'ports still listening').toEqual([]);
    const previous = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      await sweepStaleRunDirs();
    } finally {
      if (previous === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = previous;
    }
    expect(runDirsIn(tmp), 'run dirs left in TMPDIR').toEqual([]);
  });
});
