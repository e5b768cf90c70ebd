import { generateKeyPairSync } from 'node:crypto';
import { expect, test } from '@playwright/test';
import fc from 'fast-check';
import { MIN_KNOWN_SECRET_LENGTH, redact, redactionMarker, redactStrings } from './redact.ts';
import { knownSecrets, PLANTED_SECRET_ENV, plantedSecret, registerSecret } from './secrets.ts';

const { privateKey: rsaPkcs8 } = generateKeyPairSync('rsa', {
  modulusLength: 1024,
  privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
const { privateKey: ecSec1, publicKey: ecPublic } = generateKeyPairSync('ec', {
  namedCurve: 'P-256',
  privateKeyEncoding: { type: 'sec1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
});
// What ssh-keygen writes; the body is never parsed, only its armour matters.
const OPENSSH_KEY = [
  '-----BEGIN OPENSSH PRIVATE KEY-----',
  'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW',
  'QyNTUxOQAAACDx3n1pCqYAN5YbBl1Hm4yQ0Yt5nqsWcE7sWEv3BG8ZcAAAAJgTn8yOE5/M',
  '-----END OPENSSH PRIVATE KEY-----',
].join('\n');
const KEY_BODY_LINE = 'QyNTUxOQAAACDx3n1pCqYAN5YbBl1Hm4yQ0Yt5nqsWcE7sWEv3BG8ZcAAAAJgTn8yOE5/M';

test.describe('redact', () => {
  test('private keys of every PEM kind go, public keys and certificates stay', () => {
    const text = `before\n${rsaPkcs8}\n${ecSec1}\n${ecPublic}\n${OPENSSH_KEY}\nafter`;
    const out = redact(text);
    expect(out).not.toContain('PRIVATE KEY');
    expect(out).not.toContain(KEY_BODY_LINE);
    expect(out.split(redactionMarker('private key')).length - 1).toBe(3);
    expect(out).toContain(ecPublic.trim());
    expect(out).toMatch(/^before\n/);
    expect(out).toMatch(/\nafter$/);
  });

  test("a PuTTY key file's private lines go, its public lines stay", () => {
    const ppk = [
      'PuTTY-User-Key-File-3: ssh-ed25519',
      'Public-Lines: 1',
      'AAAAC3NzaC1lZDI1NTE5AAAAIPx',
      'Private-Lines: 2',
      'AAAAIFx3n1pCqYAN5YbBl1Hm4yQ0Yt5nqsWcE7s',
      'WEv3BG8ZcAAAAJgTn8yOE5/M',
      'Private-MAC: 1b2c',
    ].join('\n');
    expect(redact(ppk)).toBe(
      [
        'PuTTY-User-Key-File-3: ssh-ed25519',
        'Public-Lines: 1',
        'AAAAC3NzaC1lZDI1NTE5AAAAIPx',
        'Private-Lines: 2',
        redactionMarker('private key'),
        'Private-MAC: 1b2c',
      ].join('\n'),
    );
  });

  test('a key cut off before its END line (a log tail) goes to the end of the text', () => {
    const cut = OPENSSH_KEY.split('\n').slice(0, 3).join('\n');
    expect(redact(`robot r01 printed:\n${cut}`)).toBe(
      `robot r01 printed:\n${redactionMarker('private key')}`,
    );
  });

  test('a key inside a JSON string (escaped newlines) goes too', () => {
    const json = JSON.stringify({ key: rsaPkcs8, robot: 'r02' });
    const out = redact(json);
    expect(out).toBe(JSON.stringify({ key: `${redactionMarker('private key')}\n`, robot: 'r02' }));
  });

  test('bearer tokens, authorization headers and passwords in URLs go; the user and host stay', () => {
    expect(redact('Authorization: Bearer eyJhbGciOi.J9eyJzdWIi.Ok4x')).toBe(
      `Authorization: Bearer ${redactionMarker('token')}`,
    );
    expect(redact(`curl -H 'authorization: Basic dXNlcjpwYXNz' http://c`)).toBe(
      `curl -H 'authorization: Basic ${redactionMarker('token')}' http://c`,
    );
    expect(redact('{"Authorization":"Bearer abc.def"}')).toBe(
      `{"Authorization":"Bearer ${redactionMarker('token')}"}`,
    );
    expect(redact('sent with bearer 0123456789abcdef')).toBe(`sent with bearer ${redactionMarker('token')}`);
    expect(redact('ssh://jetson:hunter22@10.0.0.7:22 and mqtts://r01:pw@127.0.0.1:8883/t')).toBe(
      `ssh://jetson:${redactionMarker('password')}@10.0.0.7:22 and mqtts://r01:${redactionMarker('password')}@127.0.0.1:8883/t`,
    );
    expect(redact('ssh://jetson@10.0.0.7:22 http://127.0.0.1:8080/a@b')).toBe(
      'ssh://jetson@10.0.0.7:22 http://127.0.0.1:8080/a@b',
    );
  });

  test('token, secret and password fields go in query strings, JSON and key=value text', () => {
    expect(redact('GET /ota/artifact?robot=r01&token=abc123&x=1')).toBe(
      `GET /ota/artifact?robot=r01&token=${redactionMarker('token')}&x=1`,
    );
    expect(redact('{"robot":"r01","mqttPassword":"p\\"w","client_secret":"s","tokens":3}')).toBe(
      `{"robot":"r01","mqttPassword":"${redactionMarker('password')}","client_secret":"${redactionMarker('secret')}","tokens":3}`,
    );
    expect(redact(String.raw`{"body":"{\"api_key\":\"k1\",\"robot\":\"r01\"}"}`)).toBe(
      String.raw`{"body":"{\"api_key\":\"${redactionMarker('api key')}\",\"robot\":\"r01\"}"}`,
    );
    expect(redact(`MQTT_PASSWORD=hunter2 ROBOT=r01\npassword: 'x y'\ntoken = abc`)).toBe(
      `MQTT_PASSWORD=${redactionMarker('password')} ROBOT=r01\npassword: '${redactionMarker('password')}'\ntoken = ${redactionMarker('token')}`,
    );
  });

  test('text without secrets comes back unchanged', () => {
    const plain = [
      'robot r03: /odom at 4.1 Hz, expected >= 9 Hz over 5 s',
      '{"robot":"r01","slot":"b","version":"1.0.1","tokensLeft":4}',
      'GET http://127.0.0.1:8080/telemetry?robot=r01&since=12',
      '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
    ].join('\n');
    expect(redact(plain)).toBe(plain);
  });

  test('known secrets go by value wherever they are, whatever their shape, longest first', () => {
    const known = [
      { value: 'Zq8mXw2pLr', label: 'planted secret' },
      { value: 'Zq8mXw2pLr-and-more', label: 'token' },
      { value: 'short', label: 'token' },
    ];
    expect(redact('a Zq8mXw2pLr b Zq8mXw2pLr-and-more c short', known)).toBe(
      `a ${redactionMarker('planted secret')} b ${redactionMarker('token')} c short`,
    );
    expect('short'.length).toBeLessThan(MIN_KNOWN_SECRET_LENGTH);
    // Characters that mean something in a regular expression are matched literally.
    expect(redact('x a.b*c+d?e( y', [{ value: 'a.b*c+d?e(', label: 'token' }])).toBe(
      `x ${redactionMarker('token')} y`,
    );
  });

  test('a known secret never survives, and redacting twice changes nothing more', () => {
    const secret = fc.string({ minLength: MIN_KNOWN_SECRET_LENGTH, maxLength: 40 });
    fc.assert(
      fc.property(fc.string(), secret, fc.string(), (before, value, after) => {
        const once = redact(`${before}${value}${after}`, [{ value, label: 'token' }]);
        // The marker itself could be part of the value only if the value were made of marker text.
        if (!redactionMarker('token').includes(value)) expect(once).not.toContain(value);
        expect(redact(once, [{ value, label: 'token' }])).toBe(once);
      }),
      { seed: 18, numRuns: 300 },
    );
    const samples = [
      `Authorization: Bearer abc\n${OPENSSH_KEY}`,
      'password: x token=y ssh://u:p@h {"secret":"s"} ?token=t',
    ];
    for (const text of samples) expect(redact(redact(text))).toBe(redact(text));
  });
});

test.describe('redactStrings', () => {
  test('redacts every string of a structure, keeps its keys, numbers and shape', () => {
    const when = new Date(0);
    const value = {
      note: `cut key -----BEGIN RSA PRIVATE KEY-----\nMIIE`,
      drills: [{ message: 'Authorization: Bearer abc', count: 2 }],
      password: 7,
      when,
    };
    const out = redactStrings(value, (text) => redact(text));
    expect(out).toEqual({
      note: `cut key ${redactionMarker('private key')}`,
      drills: [{ message: `Authorization: Bearer ${redactionMarker('token')}`, count: 2 }],
      password: 7,
      when,
    });
    expect(value.drills[0]!.message).toBe('Authorization: Bearer abc');
    expect(JSON.parse(JSON.stringify(out))).toBeTruthy();
  });
});

test.describe('known secrets', () => {
  test('the planted secret is minted once, written back for child processes, and known by value', () => {
    const env: NodeJS.ProcessEnv = {};
    const planted = plantedSecret(env);
    expect(env[PLANTED_SECRET_ENV]).toBe(planted);
    expect(plantedSecret(env)).toBe(planted);
    expect(planted.length).toBeGreaterThanOrEqual(MIN_KNOWN_SECRET_LENGTH);
    expect(plantedSecret({})).not.toBe(planted);
    expect(knownSecrets(env)).toContainEqual({ value: planted, label: 'planted secret' });
  });

  test('a registered secret is known to this process', () => {
    registerSecret('generated-robot-token-r01', 'token');
    expect(knownSecrets({})).toContainEqual({ value: 'generated-robot-token-r01', label: 'token' });
  });
});
