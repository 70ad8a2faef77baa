import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWorkspaceInput, workspaceBaseUrl } from '../../src/zendesk/workspace';

const GOOD: Array<[string, string]> = [
  ['acme', 'acme'],
  ['ACME', 'acme'],
  ['AcMe', 'acme'],
  ['  acme  ', 'acme'],
  ['acme.zendesk.com', 'acme'],
  ['ACME.ZENDESK.COM', 'acme'],
  ['https://acme.zendesk.com', 'acme'],
  ['https://acme.zendesk.com/', 'acme'],
  ['HTTPS://Acme.Zendesk.com/', 'acme'],
  ['https://acme.zendesk.com/agent/tickets/1', 'acme'],
  ['https://acme.zendesk.com/hc/en-us?x=1#top', 'acme'],
  ['https://acme.zendesk.com?foo=bar', 'acme'],
  ['acme.zendesk.com/agent/tickets/1', 'acme'],
  ['my-company', 'my-company'],
  ['a', 'a'],
  ['a1', 'a1'],
  ['123', '123'],
  ['d3v-team-42.zendesk.com', 'd3v-team-42'],
  ['a'.repeat(63), 'a'.repeat(63)],
  [`https://${'b'.repeat(63)}.zendesk.com`, 'b'.repeat(63)],
];

const BAD: string[] = [
  '',
  '   ',
  'acme.example.com',
  'acme.zendesk.com.evil.io',
  'zendesk.com',
  '.zendesk.com',
  'https://zendesk.com',
  'evil.io/acme.zendesk.com',
  'https://evil.io/?acme.zendesk.com',
  '127.0.0.1',
  'https://127.0.0.1/',
  'http://[::1]/',
  '[::1]',
  'acme.zendesk.com:444',
  'https://acme.zendesk.com:443/',
  'user@acme.zendesk.com',
  'https://x@acme.zendesk.com',
  'https://x:y@acme.zendesk.com/',
  'https://acme.zendesk.com@evil.io',
  'http://acme.zendesk.com',
  'ftp://acme.zendesk.com',
  'javascript:alert(1)',
  'https:acme.zendesk.com',
  '//acme.zendesk.com',
  'https://acme',
  'acme/agent',
  'acmé',
  'xn--acm-bla',
  'xn--acm-bla.zendesk.com',
  'аcme',
  'a'.repeat(64),
  `${'c'.repeat(64)}.zendesk.com`,
  'acme\n',
  'ac\tme',
  'acme\u0000',
  '-acme',
  'acme-',
  '-acme-.zendesk.com',
  'sub.acme.zendesk.com',
  'ac.me',
  'ac_me',
  'ac me',
  '?acme',
  '#acme',
  '/acme',
  'https://',
  'acme%2ezendesk.com',
  'https:\\\\acme.zendesk.com',
  'acme.zendesk.com.',
];

for (const [input, subdomain] of GOOD) {
  test(`accepts ${JSON.stringify(input)} as ${subdomain}`, () => {
    assert.deepEqual(parseWorkspaceInput(input), { ok: true, subdomain });
  });
}

for (const input of BAD) {
  test(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)} with a reason`, () => {
    const result = parseWorkspaceInput(input);
    assert.equal(result.ok, false, `expected rejection, got ${JSON.stringify(result)}`);
    if (!result.ok) {
      assert.ok(result.reason.length > 10, 'a human reason');
      assert.match(result.reason, /^[A-Z]/);
    }
  });
}

test('rejection reasons name the problem', () => {
  const reason = (input: string) => {
    const r = parseWorkspaceInput(input);
    assert.equal(r.ok, false);
    return r.ok ? '' : r.reason;
  };
  assert.match(reason('acme.zendesk.com:444'), /port/);
  assert.match(reason('user@acme.zendesk.com'), /user name|password/);
  assert.match(reason('http://acme.zendesk.com'), /https/);
  assert.match(reason('127.0.0.1'), /IP/);
  assert.match(reason('a'.repeat(64)), /63/);
  assert.match(reason('acme.example.com'), /zendesk\.com/i);
  assert.match(reason('-acme'), /hyphen/);
  assert.match(reason('acmé'), /ASCII/);
  assert.match(reason(''), /subdomain/);
});

test('workspaceBaseUrl fills host and path templates', () => {
  assert.equal(workspaceBaseUrl('https://{subdomain}.zendesk.com', 'acme'), 'https://acme.zendesk.com');
  assert.equal(workspaceBaseUrl('https://{subdomain}.zendesk.com/', 'acme'), 'https://acme.zendesk.com');
  assert.equal(workspaceBaseUrl('http://127.0.0.1:4010/{subdomain}', 'acme'), 'http://127.0.0.1:4010/acme');
  assert.equal(workspaceBaseUrl('http://127.0.0.1:4010/zd/{subdomain}/', 'a-1'), 'http://127.0.0.1:4010/zd/a-1');
});

test('workspaceBaseUrl throws for an invalid subdomain', () => {
  for (const bad of ['', 'ACME', 'evil.io/x', 'a@b', 'acme.zendesk.com', '-a', 'a'.repeat(64), '../x', 'a/b', 'a?b', 'a#b']) {
    assert.throws(() => workspaceBaseUrl('https://{subdomain}.zendesk.com', bad), /Invalid Zendesk subdomain/, bad);
  }
});
