import { expect, test } from '@playwright/test';
import { ConfigError } from '../../core/errors.ts';
import {
  checkRemoteEngine,
  crossingsOf,
  defaultEngineUrl,
  DOCKER_HOSTS_ENV,
  parseEngine,
  placeRobots,
  resolveEngines,
  SHARED_DIR_ENV,
} from './engines.ts';

/** Runs `body` with env vars set (undefined: unset), restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((key) => [key, process.env[key]]));
  const apply = (values: Record<string, string | undefined>): void => {
    for (const [key, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  apply(vars);
  try {
    return body();
  } finally {
    apply(saved);
  }
}

test.describe('docker engines', () => {
  test('each URL form becomes the dockerode options it names', () => {
    expect(parseEngine('unix:///tmp/e2/docker.sock', 'x')).toEqual({
      url: 'unix:///tmp/e2/docker.sock',
      weight: 1,
      remoteHost: undefined,
      client: { socketPath: '/tmp/e2/docker.sock' },
    });
    expect(parseEngine('tcp://127.0.0.1:2375=3', 'x')).toMatchObject({
      url: 'tcp://127.0.0.1:2375',
      weight: 3,
      remoteHost: undefined,
      client: { protocol: 'http', host: '127.0.0.1', port: 2375 },
    });
    expect(parseEngine('ssh://ci@rack2:2222', 'x')).toMatchObject({
      remoteHost: 'rack2',
      client: { protocol: 'ssh', host: 'rack2', port: 2222, username: 'ci' },
    });
    // The engine the docker CLI would use is testcontainers' too: no client options of its own.
    expect(parseEngine(defaultEngineUrl(), 'x').client).toBeUndefined();
  });

  test('a bad entry is a ConfigError naming where it came from and the entry', () => {
    const cases: Array<[string, string]> = [
      ['http://host:2375', 'dockerHosts[1] "http://host:2375" must be unix:///path/to/docker.sock'],
      ['tcp://host', 'dockerHosts[1] "tcp://host" must be'],
      ['unix://relative.sock', 'dockerHosts[1] unix://relative.sock: the socket path must be absolute'],
      ['unix:///x.sock=0', 'dockerHosts[1] unix:///x.sock=0: the weight'],
      ['tcp://host:2376', 'TLS engines are not supported'],
    ];
    for (const [entry, message] of cases) {
      const error = (() => {
        try {
          resolveEngines([defaultEngineUrl(), entry]);
        } catch (caught) {
          return caught;
        }
        return undefined;
      })();
      expect(error, entry).toBeInstanceOf(ConfigError);
      expect((error as Error).message, entry).toContain(message);
    }
  });

  test('the list comes from the option, else FLEETDRILL_DOCKER_HOSTS, else the default engine', () => {
    withEnv({ [DOCKER_HOSTS_ENV]: 'unix:///a.sock, unix:///b.sock=2' }, () => {
      expect(resolveEngines(undefined).map((engine) => [engine.url, engine.weight])).toEqual([
        ['unix:///a.sock', 1],
        ['unix:///b.sock', 2],
      ]);
      expect(resolveEngines(['unix:///c.sock']).map((engine) => engine.url)).toEqual(['unix:///c.sock']);
    });
    withEnv({ [DOCKER_HOSTS_ENV]: 'unix:///a.sock,tcp://' }, () => {
      expect(() => resolveEngines(undefined)).toThrow(`${DOCKER_HOSTS_ENV}[1] "tcp://" must be`);
    });
    withEnv({ [DOCKER_HOSTS_ENV]: undefined }, () => {
      expect(resolveEngines(undefined).map((engine) => engine.url)).toEqual([defaultEngineUrl()]);
    });
    expect(() => resolveEngines(['unix:///a.sock', 'unix:///a.sock=2'])).toThrow(
      'dockerHosts[1] unix:///a.sock is listed twice',
    );
  });

  test('placement is round-robin in robot order, and follows weights', () => {
    expect(placeRobots(6, [1, 1])).toEqual([0, 1, 0, 1, 0, 1]);
    expect(placeRobots(4, [1])).toEqual([0, 0, 0, 0]);
    const weighted = placeRobots(8, [3, 1]);
    expect(weighted.filter((engine) => engine === 0)).toHaveLength(6);
    // Spread out, not three in a row then one: the light engine gets every fourth robot.
    expect(weighted).toEqual([0, 0, 1, 0, 0, 0, 1, 0]);
    expect(placeRobots(8, [3, 1])).toEqual(weighted);
  });

  test('links cross at each run network gateway on one machine, by host name across machines', () => {
    const home = parseEngine('unix:///var/run/docker.sock=1', 'x');
    const second = parseEngine('unix:///tmp/e2/docker.sock', 'x');
    const net = (subnet: string, gateway: string) => ({ name: 'fd-1-abc', subnet, gateway });
    expect(
      crossingsOf(
        [
          { spec: home, network: net('172.18.0.0/16', '172.18.0.1') },
          { spec: second, network: net('10.114.0.0/24', '10.114.0.1') },
        ],
        'ci-box',
      ),
    ).toEqual([
      { bind: '172.18.0.1', address: '172.18.0.1' },
      { bind: '10.114.0.1', address: '10.114.0.1' },
    ]);
    // Two engines that hand out one subnet: a gateway address would not say which engine it is.
    expect(() =>
      crossingsOf(
        [
          { spec: home, network: net('172.18.0.0/16', '172.18.0.1') },
          { spec: second, network: net('172.18.0.0/16', '172.18.0.1') },
        ],
        'ci-box',
      ),
    ).toThrow(
      "unix:///tmp/e2/docker.sock: its run network got subnet 172.18.0.0/16, as unix:///var/run/docker.sock's did",
    );
    expect(() =>
      crossingsOf(
        [{ spec: second, network: { name: 'fd-1-abc', subnet: undefined, gateway: undefined } }],
        'x',
      ),
    ).toThrow('unix:///tmp/e2/docker.sock: run network fd-1-abc has no subnet and gateway address');
    // Another host in the list: every engine binds everywhere and is dialled by its host's name.
    expect(
      crossingsOf(
        [
          { spec: home, network: undefined },
          { spec: parseEngine('ssh://ci@rack2', 'x'), network: undefined },
        ],
        'ci-box',
      ),
    ).toEqual([
      { bind: '0.0.0.0', address: 'ci-box' },
      { bind: '0.0.0.0', address: 'rack2' },
    ]);
  });

  test('an engine on another host needs the run dir on a shared mount, and says so', () => {
    const remote = parseEngine('ssh://ci@rack2', 'dockerHosts[1]');
    const local = parseEngine('unix:///tmp/e2.sock', 'dockerHosts[1]');
    withEnv({ [SHARED_DIR_ENV]: undefined }, () => {
      expect(() => checkRemoteEngine(local, '/tmp/fleetdrill-1-x')).not.toThrow();
      expect(() => checkRemoteEngine(remote, '/tmp/fleetdrill-1-x')).toThrow(
        /ssh:\/\/ci@rack2 is on another host \(rack2\).*run dir \/tmp\/fleetdrill-1-x.*FLEETDRILL_DOCKER_SHARED_DIR/,
      );
    });
    withEnv({ [SHARED_DIR_ENV]: '/shared/fleetdrill' }, () => {
      expect(() => checkRemoteEngine(remote, '/shared/fleetdrill/fleetdrill-1-x')).not.toThrow();
      expect(() => checkRemoteEngine(remote, '/shared/fleetdrill-other/fleetdrill-1-x')).toThrow(
        'now /shared/fleetdrill, which does not hold the run dir',
      );
    });
  });
});
