import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config';

/** ZENDESK_ACCESS_TOKEN_EXPIRES_IN / ZENDESK_REFRESH_TOKEN_EXPIRES_IN: what the worker asks Zendesk for. */

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
};

test('token lifetimes default to 30 minutes and 30 days', () => {
  const { zendesk } = loadConfig({});
  assert.equal(zendesk.accessTokenExpiresIn, 1800);
  assert.equal(zendesk.refreshTokenExpiresIn, 2_592_000);
});

test("token lifetimes are validated within Zendesk's bounds (exclusive)", () => {
  assert.equal(loadConfig({ ZENDESK_ACCESS_TOKEN_EXPIRES_IN: '301', ZENDESK_REFRESH_TOKEN_EXPIRES_IN: '604801' }).zendesk.accessTokenExpiresIn, 301);
  assert.equal(loadConfig({ ZENDESK_ACCESS_TOKEN_EXPIRES_IN: '172799', ZENDESK_REFRESH_TOKEN_EXPIRES_IN: '7775999' }).zendesk.refreshTokenExpiresIn, 7_775_999);
  for (const value of ['300', '172800', '0', '-1', '1e3', '30m', '']) {
    if (value === '') continue; // empty means unset: the default
    const problems = problemsOf({ ZENDESK_ACCESS_TOKEN_EXPIRES_IN: value });
    assert.equal(problems.length, 1, `${value}: ${problems.join('; ')}`);
    assert.match(problems[0]!, /^ZENDESK_ACCESS_TOKEN_EXPIRES_IN: must be (more than 300|less than 172800|a whole number)/);
  }
  for (const value of ['604800', '7776000', '86400']) {
    const problems = problemsOf({ ZENDESK_REFRESH_TOKEN_EXPIRES_IN: value });
    assert.equal(problems.length, 1, value);
    assert.match(problems[0]!, /^ZENDESK_REFRESH_TOKEN_EXPIRES_IN: must be (more than 604800|less than 7776000)/);
  }
  assert.equal(loadConfig({ ZENDESK_ACCESS_TOKEN_EXPIRES_IN: '' }).zendesk.accessTokenExpiresIn, 1800);
});
