import { randomBytes } from 'node:crypto';
import { redact, type KnownSecret } from './redact.ts';

/**
 * Environment variable that carries the run's planted secret: minted once by the runner
 * (playwright.config.ts), inherited by every worker and every robot process, and searched for in
 * `reports/` at the end of the run. Any occurrence there is a leak.
 */
export const PLANTED_SECRET_ENV = 'FLEETDRILL_PLANTED_SECRET';

/** The marker word for the planted secret. */
export const PLANTED_SECRET_LABEL = 'planted secret';

/**
 * The run's planted secret: PLANTED_SECRET_ENV when set, otherwise a fresh one written back to the
 * environment so that child processes share it. Random and shapeless on purpose (no prefix, no
 * PEM armour): only redaction by value can catch it, and no earlier run's report can contain it.
 */
export function plantedSecret(env: NodeJS.ProcessEnv = process.env): string {
  const given = env[PLANTED_SECRET_ENV];
  if (given) return given;
  const fresh = randomBytes(24).toString('base64url');
  env[PLANTED_SECRET_ENV] = fresh;
  return fresh;
}

// Per process: a worker registers the keys and tokens it generates; the runner and robots have
// their own. The planted secret is known everywhere through the environment.
const registered = new Map<string, string>();

/**
 * Makes a secret the harness generated at run time (a key, a token, a password) known to every
 * redaction in this process, so it is caught even where it has no recognisable shape.
 */
export function registerSecret(value: string, label = 'secret'): void {
  registered.set(value, label);
}

/** Every secret this process knows by value: the registered ones and the run's planted secret. */
export function knownSecrets(env: NodeJS.ProcessEnv = process.env): KnownSecret[] {
  const known = [...registered].map(([value, label]) => ({ value, label }));
  const planted = env[PLANTED_SECRET_ENV];
  if (planted) known.push({ value: planted, label: PLANTED_SECRET_LABEL });
  return known;
}

/** `text` with this process's known secrets and everything shaped like a secret redacted. */
export function redactSecrets(text: string): string {
  return redact(text, knownSecrets());
}
