import { randomBytes } from 'node:crypto';

/**
 * A reference for an internal error: shown to the tenant in place of the error's text, and logged with that
 * text, so support can find the one log line from what a customer quotes. Random (not a counter or a time):
 * it says nothing about our traffic, and two processes never hand out the same one.
 */
export function newErrorReference(): string {
  return `ref-${randomBytes(6).toString('hex')}`;
}
