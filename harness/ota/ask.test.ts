/*
 * Asking a robot while it is up (ask.ts): each try starts only once the robot is up, a few tries
 * are made, and what could not be asked says "no answer ... while the robot was up", apart from a
 * robot that died. The robot here is a stand-in for its readiness wait only; the asking is real.
 */
import { expect, test } from '@playwright/test';
import { RobotDiedError, TimeoutError } from '../core/errors.ts';
import { askVersion, askWhileUp, describeVersionAnswer, type AskedRobot } from './ask.ts';

/** One turn of the event loop: the stand-ins answer asynchronously, as a robot over a socket does. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** A robot whose readiness waits succeed or fail as `up` says, logging each step in `log`. */
function robot(up: (wait: number) => boolean | Error, log: string[]): AskedRobot {
  let waits = 0;
  return {
    id: 'r09',
    async waitUntilReady(timeoutMs) {
      await tick();
      const verdict = up(++waits);
      log.push(`ready? ${timeoutMs}`);
      if (verdict instanceof Error) throw verdict;
      if (!verdict) throw new TimeoutError(`robot r09: /odom: no message within ${timeoutMs} ms`);
    },
  };
}

test('each try starts once the robot is up; the third answer counts', async () => {
  const log: string[] = [];
  let asks = 0;
  const answer = await askWhileUp(
    robot(() => true, log),
    '/get_version',
    async (timeoutMs) => {
      await tick();
      log.push(`ask ${timeoutMs}`);
      if (++asks < 3)
        throw new TimeoutError(`robot r09: no response from /get_version within ${timeoutMs} ms`);
      return '1.0.4';
    },
    { askTimeoutMs: 50, readyTimeoutMs: 70 },
  );
  expect(answer).toEqual({ told: '1.0.4' });
  expect(log).toEqual(['ready? 70', 'ask 50', 'ready? 70', 'ask 50', 'ready? 70', 'ask 50']);
});

test('no answer after every try: "no answer ... while the robot was up", with each reason', async () => {
  const log: string[] = [];
  const answer = await askVersion(
    {
      ...robot(() => true, log),
      version: async (timeoutMs) => {
        await tick();
        throw new TimeoutError(`robot r09: no response from /get_version within ${timeoutMs} ms`);
      },
    },
    { tries: 2, askTimeoutMs: 10 },
  );
  expect(answer).toEqual({
    unanswered:
      'no answer from r09 /get_version after 2 tries while the robot was up: ' +
      'robot r09: no response from /get_version within 10 ms; robot r09: no response from /get_version within 10 ms',
  });
  expect(describeVersionAnswer(answer)).toMatch(
    /^could not tell \(no answer from r09 \/get_version after 2 tries while the robot was up: /,
  );
  expect(describeVersionAnswer({ version: '1.0.4' })).toBe('1.0.4');
});

test('a robot that does not come up again ends the asking: still "could not tell", not wrong', async () => {
  const log: string[] = [];
  const answer = await askWhileUp(
    robot((wait) => wait === 1, log),
    '/get_version',
    async () => {
      await tick();
      throw new TimeoutError('robot r09: no response from /get_version within 5 ms');
    },
    { readyTimeoutMs: 20 },
  );
  expect(answer).toEqual({
    unanswered:
      'no answer from r09 /get_version after 1 try while the robot was up, then it did not get up (idle window 20 ms): ' +
      'robot r09: no response from /get_version within 5 ms; robot r09: /odom: no message within 20 ms',
  });
  expect(log).toEqual(['ready? 20', 'ready? 20']);
});

test('a robot that died while asked is evidence: marked died, not "could not tell"', async () => {
  const death = new RobotDiedError('r09', 'exit code 1', []);
  for (const when of ['waiting', 'asking'] as const) {
    const answer = await askVersion({
      ...robot(() => (when === 'waiting' ? death : true), []),
      version: async () => {
        await tick();
        throw death;
      },
    });
    expect(answer, when).toEqual({
      unanswered: `r09 died before it answered /get_version: ${death.message}`,
      died: true,
    });
    expect(describeVersionAnswer(answer), when).not.toContain('could not tell');
  }
});
