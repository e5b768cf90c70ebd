import { expect, test } from '@playwright/test';
import { RobotDiedError, runAll, settleAll } from './errors.ts';
import { PLANTED_SECRET_ENV, plantedSecret } from './secrets.ts';

test.describe('errors', () => {
  test('runAll runs every step and rethrows the first failure', async () => {
    const ran: string[] = [];
    const first = new Error('first');
    await expect(
      runAll([
        () => ran.push('a'),
        () => {
          ran.push('b');
          throw first;
        },
        () => {
          ran.push('c');
          return Promise.reject(new Error('second'));
        },
        () => ran.push('d'),
      ]),
    ).rejects.toBe(first);
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  test('settleAll waits for every promise before rethrowing', async () => {
    let slowDone = false;
    const slow = new Promise<void>((resolve) =>
      setTimeout(() => {
        slowDone = true;
        resolve();
      }, 50),
    );
    await expect(settleAll([Promise.reject(new Error('boom')), slow])).rejects.toThrow('boom');
    expect(slowDone).toBe(true);
  });

  test('RobotDiedError names the robot, the exit and the last log lines', () => {
    const error = new RobotDiedError('r03', 'signal SIGSEGV', ['line one', 'line two']);
    expect(error.message).toContain('robot r03 died unexpectedly (signal SIGSEGV)');
    expect(error.message).toContain('line two');
    expect(error.name).toBe('RobotDiedError');
  });

  test("RobotDiedError's log lines come redacted: a dying robot may print its keys and tokens", () => {
    const planted = process.env[PLANTED_SECRET_ENV] ?? plantedSecret();
    const error = new RobotDiedError('r03', 'exit code 1', [
      `env ROBOT_TOKEN=${planted}`,
      'Authorization: Bearer abc.def',
    ]);
    expect(error.message).not.toContain(planted);
    expect(error.message).not.toContain('abc.def');
    expect(error.message).toContain('Authorization: Bearer [redacted: token]');
  });
});
