import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseCount } from '../core/config.ts';
import { ConfigError } from '../core/errors.ts';
import { parseSeed } from '../core/seed.ts';
import { ToxiproxyServer } from '../net/toxiproxy/index.ts';
import { warnListenAddress } from '../core/listen-address.ts';

/** `fleetdrill toxiproxy` options as commander hands them over (strings, unvalidated). */
export interface ToxiproxyFlags {
  host: string;
  port: string;
  config?: string;
  seed?: string;
  json?: boolean;
}

/** Reads a proxies file: a JSON array, as `POST /populate` and toxiproxy-server's -config take. */
function readProxies(file: string): unknown[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${file}:`, `not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed)) {
    throw new ConfigError(`${file}:`, 'must hold a JSON array of proxies ({ name, listen, upstream })');
  }
  return parsed;
}

/**
 * Runs the embedded Toxiproxy-compatible server until SIGINT or SIGTERM, so toxiproxy-cli or
 * any Toxiproxy client can drive it by hand. With --json every line on stdout is one JSON object.
 */
export async function toxiproxy(flags: ToxiproxyFlags): Promise<number> {
  const port = parseCount(flags.port, '--port', 0, 65535);
  const seed = flags.seed === undefined ? undefined : parseSeed(flags.seed, '--seed');
  const file = flags.config === undefined ? undefined : resolve(flags.config);
  const proxies = file === undefined ? undefined : readProxies(file);
  const stopSignal = new Promise<string>((done) => {
    process.once('SIGINT', () => done('SIGINT'));
    process.once('SIGTERM', () => done('SIGTERM'));
  });
  let server;
  try {
    server = await new ToxiproxyServer({ host: flags.host, port, seed, proxies }).start();
  } catch (error) {
    // Entries are validated by the server: name the file they came from.
    if (error instanceof ConfigError && file !== undefined && error.path.startsWith('proxies')) {
      throw new ConfigError(`${file}:`, error.message);
    }
    throw error;
  }
  warnListenAddress('the fault layer API', flags.host);
  const listeners = server.listeners();
  if (flags.json) {
    console.log(
      JSON.stringify({ event: 'toxiproxy', url: server.url, seed: server.seed, proxies: listeners }),
    );
  } else {
    console.log(`toxiproxy API on ${server.url} (seed ${server.seed}); Ctrl-C to stop`);
    for (const [name, listen] of Object.entries(listeners)) console.log(`  proxy ${name} on ${listen}`);
  }
  const signal = await stopSignal;
  await server.stop();
  if (flags.json) console.log(JSON.stringify({ event: 'stopped', signal }));
  else console.error('toxiproxy stopped');
  return 0;
}
