import pino, { type Logger } from 'pino';

/**
 * Structured JSON logs for every process. Known secret-bearing fields are redacted wherever they
 * appear; code must still never put a token into a message string.
 */
const REDACT_PATHS = [
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'code',
  'code_verifier',
  'codeVerifier',
  'client_secret',
  'clientSecret',
  'authorization',
  'apiKey',
  'password',
  'secret',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.code_verifier',
  '*.client_secret',
  '*.authorization',
  '*.apiKey',
  'req.headers.authorization',
  'headers.authorization',
];

export function createLogger(level: string = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'zendesk-integration-worker' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

export type { Logger };
