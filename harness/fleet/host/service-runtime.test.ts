import { expect, test } from '@playwright/test';
import { registerSecret } from '../../core/secrets.ts';
import { withLogTail } from './service-runtime.ts';

test.describe('withLogTail', () => {
  test('puts the log tail under a heading, with known and key-shaped secrets redacted', () => {
    registerSecret('cloud-issued-token-r01-9f8e7d', 'token');
    const message = withLogTail('robot r01 exited during boot', 'r01', [
      'connecting to mqtts://r01:cloud-issued-token-r01-9f8e7d@127.0.0.1:8883',
      '-----BEGIN EC PRIVATE KEY-----',
      'MHcCAQEEIBv',
    ]);
    expect(message).toBe(
      [
        'robot r01 exited during boot',
        '--- last log lines of r01 ---',
        'connecting to mqtts://r01:[redacted: token]@127.0.0.1:8883',
        '[redacted: private key]',
      ].join('\n'),
    );
    expect(withLogTail('no tail', 'r01', [])).toBe('no tail');
  });
});
