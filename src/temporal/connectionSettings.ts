import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { z } from 'zod';

/**
 * How the API and the worker reach Temporal beyond its address: TLS (server-verified, or mutual with a client
 * certificate) and Temporal Cloud's API key. The variables are those of `@temporalio/envconfig`, which is
 * also what the `temporal` CLI and the other SDKs read, so one set of variables configures our processes and
 * an operator's CLI alike; envconfig turns them into the SDK's connection options. What envconfig does not do
 * is check them: a missing file, a key that is not the certificate's, an expired certificate or an API key
 * sent in the clear would only show up as a failed (or, with grpc-js, a slow) connection. Those checks are
 * here, run by src/config.ts at start with every other variable.
 *
 * Only environment variables: no TOML profile file is read (`disableFile`), so what a process runs with is
 * what its deployment says, not a file left in a home directory.
 */
export const temporalConnectionEnvShape = {
  /** Temporal Cloud API key: sent as `authorization: Bearer …`; turns TLS on. A secret, never logged. */
  TEMPORAL_API_KEY: z.string().min(1).optional(),
  /** `true`/`1` forces TLS on (system CA roots unless a CA is given), `false`/`0` off. Default: on when any TLS setting or an API key is given. */
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0'], { message: 'must be true or false' }).optional(),
  /** PEM file of the CA(s) that signed the Temporal frontend's certificate (default: the system's roots). */
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
  /** mTLS: PEM file of this process's client certificate (with TEMPORAL_TLS_CLIENT_KEY_PATH). */
  TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
  /** mTLS: PEM file of the client certificate's private key. */
  TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
  /** The name to verify the server's certificate against, when it is not the host of TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
};

type ConnectionEnv = { [K in keyof typeof temporalConnectionEnvShape]?: string } & { TEMPORAL_ADDRESS: string; TEMPORAL_NAMESPACE: string };

/** What Connection.connect (client) and NativeConnection.connect (worker) are given besides the address. */
export interface TemporalConnectionSettings {
  /** false/undefined: plaintext. */
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

/** envconfig also reads these; we do not support them (files only), so say so instead of ignoring them. */
const UNSUPPORTED = [
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_PROFILE',
];

const truthy = (value: string | undefined) => (value === undefined ? undefined : value === 'true' || value === '1');

/** Reads a PEM file; a problem (naming the variable, never the contents) when it cannot be read. */
function readPem(name: string, file: string, problems: string[]): string | undefined {
  try {
    const text = readFileSync(file, 'utf8');
    if (!text.includes('-----BEGIN ')) {
      problems.push(`${name}: ${file} is not a PEM file`);
      return undefined;
    }
    return text;
  } catch (err) {
    problems.push(`${name}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    return undefined;
  }
}

function certificate(name: string, pem: string, problems: string[]): X509Certificate | undefined {
  try {
    const cert = new X509Certificate(pem);
    if (new Date(cert.validTo) < new Date()) problems.push(`${name}: the certificate expired on ${new Date(cert.validTo).toISOString()}`);
    return cert;
  } catch {
    problems.push(`${name}: does not hold a PEM certificate`);
    return undefined;
  }
}

/**
 * Checks the connection variables and turns them into connection settings; `problems` names each bad one.
 * Reads the certificate files once, here: a process finds out at start, not at its first Temporal call.
 */
export function resolveTemporalConnection(
  env: ConnectionEnv,
  rawEnv: Record<string, string | undefined>,
): { settings: TemporalConnectionSettings; problems: string[] } {
  const problems: string[] = [];
  for (const name of UNSUPPORTED) {
    if (rawEnv[name]) problems.push(`${name}: not supported; give certificates and keys as files (TEMPORAL_TLS_*_PATH) and every setting as its own variable`);
  }
  const tlsFlag = truthy(env.TEMPORAL_TLS);
  const tlsSettings = [
    'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_CERT_PATH',
    'TEMPORAL_TLS_CLIENT_KEY_PATH',
    'TEMPORAL_TLS_SERVER_NAME',
  ] as const;
  const given = tlsSettings.filter((name) => env[name] !== undefined);
  if (tlsFlag === false) {
    for (const name of given) problems.push(`${name}: set, but TEMPORAL_TLS is false`);
    // The key would cross the network in the clear, readable by anyone on the path.
    if (env.TEMPORAL_API_KEY) problems.push('TEMPORAL_API_KEY: is only ever sent over TLS; remove TEMPORAL_TLS=false');
  }
  const certPath = env.TEMPORAL_TLS_CLIENT_CERT_PATH;
  const keyPath = env.TEMPORAL_TLS_CLIENT_KEY_PATH;
  if (certPath && !keyPath) problems.push('TEMPORAL_TLS_CLIENT_KEY_PATH: required with TEMPORAL_TLS_CLIENT_CERT_PATH (mTLS needs the certificate and its key)');
  if (keyPath && !certPath) problems.push('TEMPORAL_TLS_CLIENT_CERT_PATH: required with TEMPORAL_TLS_CLIENT_KEY_PATH (mTLS needs the certificate and its key)');
  const caPath = env.TEMPORAL_TLS_SERVER_CA_CERT_PATH;
  if (caPath) {
    const pem = readPem('TEMPORAL_TLS_SERVER_CA_CERT_PATH', caPath, problems);
    if (pem) certificate('TEMPORAL_TLS_SERVER_CA_CERT_PATH', pem, problems);
  }
  if (certPath && keyPath) {
    const certPem = readPem('TEMPORAL_TLS_CLIENT_CERT_PATH', certPath, problems);
    const keyPem = readPem('TEMPORAL_TLS_CLIENT_KEY_PATH', keyPath, problems);
    const cert = certPem ? certificate('TEMPORAL_TLS_CLIENT_CERT_PATH', certPem, problems) : undefined;
    let key: ReturnType<typeof createPrivateKey> | undefined;
    if (keyPem) {
      try {
        key = createPrivateKey(keyPem);
      } catch {
        problems.push('TEMPORAL_TLS_CLIENT_KEY_PATH: does not hold an unencrypted PEM private key');
      }
    }
    if (cert && key && !cert.checkPrivateKey(key))
      problems.push('TEMPORAL_TLS_CLIENT_KEY_PATH: is not the private key of the certificate in TEMPORAL_TLS_CLIENT_CERT_PATH');
  }
  if (problems.length > 0) return { settings: {}, problems };

  // envconfig maps the variables to the SDK's options (TLS on for any TLS setting or an API key), from
  // exactly the variables checked above.
  const subset = Object.fromEntries(
    (['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', ...Object.keys(temporalConnectionEnvShape)] as Array<keyof ConnectionEnv>).flatMap((name) =>
      env[name] === undefined ? [] : [[name, env[name]]],
    ),
  );
  try {
    const { connectionOptions } = loadClientConnectConfig({ disableFile: true, overrideEnvVars: subset });
    const tls = connectionOptions.tls ?? undefined;
    return { settings: { ...(tls ? { tls } : {}), ...(connectionOptions.apiKey ? { apiKey: connectionOptions.apiKey } : {}) }, problems };
  } catch (err) {
    return { settings: {}, problems: [`TEMPORAL_TLS: could not be applied (${(err as Error).message})`] };
  }
}

/** One line for the start-up log: how Temporal is reached, without any secret. */
export function describeTemporalConnection(settings: TemporalConnectionSettings): string {
  if (!settings.tls) return 'plaintext';
  const tls = typeof settings.tls === 'object' ? settings.tls : {};
  const parts = [
    tls.serverRootCACertificate ? 'TLS (server CA from TEMPORAL_TLS_SERVER_CA_CERT_PATH)' : 'TLS (system CA roots)',
    ...(tls.clientCertPair ? ['client certificate (mTLS)'] : []),
    ...(tls.serverNameOverride ? [`server name ${tls.serverNameOverride}`] : []),
    ...(settings.apiKey ? ['API key'] : []),
  ];
  return parts.join(', ');
}
