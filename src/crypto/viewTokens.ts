import { randomBytes } from 'node:crypto';
import { hashApiKey } from './apiKeys';

/**
 * View session tokens: 256 random bits in the utilization view's URL, as Connect session tokens are
 * (src/crypto/connectTokens.ts): stored only as their SHA-256; the `zv_` prefix tells them apart in a leak scan.
 */
const TOKEN_PATTERN = /^zv_[A-Za-z0-9_-]{43}$/;

export const generateViewToken = (): string => `zv_${randomBytes(32).toString('base64url')}`;

export const hashViewToken = (token: string): string => hashApiKey(token);

/** Whether `text` can be a token at all (anything else is answered as unknown without a query). */
export const looksLikeViewToken = (text: string): boolean => TOKEN_PATTERN.test(text);
