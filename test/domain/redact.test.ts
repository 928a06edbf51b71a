import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  redactConfig,
  redactUrlCredentials,
  scrubSecrets,
  secretValues,
} from '../../src/domain/redact.js';

test('secret keys are redacted at any depth, other values kept', () => {
  const out = redactConfig({
    cookie: 'abc',
    nested: { api_key: 'k', list: [{ password: 'p' }] },
    prompt: 'a cat',
    steps: 20,
  });
  assert.deepEqual(out, {
    cookie: '[redacted]',
    nested: { api_key: '[redacted]', list: [{ password: '[redacted]' }] },
    prompt: 'a cat',
    steps: 20,
  });
});

test('credentials inside URLs are redacted, the rest of the URL kept', () => {
  assert.equal(
    redactUrlCredentials('via http://bob:hunter22@proxy:8080/x'),
    'via http://bob:[redacted]@proxy:8080/x',
  );
  assert.equal(redactUrlCredentials('http://proxy:8080'), 'http://proxy:8080');
});

test('free text is scrubbed of the secret values of a config', () => {
  const secrets = secretValues({ cookie: 'PHPSESSID=zzz999', proxy: 'socks5://u:longpass@h:1' });
  assert.equal(
    scrubSecrets('sent PHPSESSID=zzz999 through socks5://u:longpass@h:1', secrets),
    'sent [redacted] through socks5://u:[redacted]@h:1',
  );
});

test('redaction stays linear on long lines that only look like a scheme', () => {
  // A quadratic regex took ~100 ms for one such line; this loop would then take minutes.
  const line = 'x'.repeat(64 * 1024) + ':/';
  for (let i = 0; i < 200; i++) assert.equal(redactUrlCredentials(line), line);
});
