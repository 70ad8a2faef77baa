import type { SecretBinding, SecretTable } from '../crypto/secretBinding';

/**
 * Every column that holds a secret sealed by SecretBox, by table: the row's key and the encrypted columns
 * (nullable ones included). The repositories bind each value to (table, row, field) through `bindingOf`;
 * `npm run rotate-keys` (src/crypto/rotation.ts) walks this list, so a new encrypted column is rotated once
 * it is listed here.
 */
/** Every key is a uuid (rotation pages by it). */
export const SECRET_COLUMNS = {
  oauth_credentials: { key: 'integration_id', columns: ['access_token_enc', 'refresh_token_enc'] },
  oauth_staged_credentials: { key: 'flow_id', columns: ['access_token_enc', 'refresh_token_enc'] },
  oauth_flows: { key: 'id', columns: ['pkce_verifier_enc', 'code_enc'] },
  webhook_endpoints: { key: 'id', columns: ['secret_enc', 'previous_secret_enc'] },
} as const satisfies Record<SecretTable, { key: string; columns: readonly string[] }>;

export type SecretColumn<T extends SecretTable> = (typeof SECRET_COLUMNS)[T]['columns'][number];

/** The binding of one stored value: `refresh_token_enc` of oauth_credentials row X is field `refresh_token` of X. */
export function bindingOf<T extends SecretTable>(table: T, row: string, column: SecretColumn<T>): SecretBinding {
  return { table, row, field: column.replace(/_enc$/, '') };
}
