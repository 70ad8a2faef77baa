import { randomBytes } from 'node:crypto';
import { hashApiKey } from './apiKeys';

/**
 * Connect session tokens: 256 random bits in the Connect page's URL. Like API keys they are high-entropy, so
 * a plain SHA-256 is a sound at-rest form (only the hash is stored); the prefix tells them apart in a leak scan.
 */
const TOKEN_PATTERN = /^zc_[A-Za-z0-9_-]{43}$/;

export const generateConnectToken = (): string => `zc_${randomBytes(32).toString('base64url')}`;

export const hashConnectToken = (token: string): string => hashApiKey(token);

/** Whether `text` can be a token at all (anything else is answered as unknown without a query). */
export const looksLikeConnectToken = (text: string): boolean => TOKEN_PATTERN.test(text);
