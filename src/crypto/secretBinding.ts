/**
 * What a stored secret is bound to: its table, its row and its field. The binding is the AES-GCM associated
 * data, so a ciphertext decrypts only where it was written: copied to another row, another table, or the
 * other field of its own row (an access token swapped with its refresh token), it fails authentication.
 */
export type SecretTable = 'oauth_credentials' | 'oauth_staged_credentials' | 'oauth_flows' | 'webhook_endpoints';

export interface SecretBinding {
  table: SecretTable;
  /** The row's primary key. */
  row: string;
  /** The field, e.g. `refresh_token` (the column without `_enc`). */
  field: string;
}

/** The associated data of the current format (v2), e.g. `oauth_credentials|<integration id>|refresh_token|v2`. */
export function associatedData(binding: SecretBinding): string {
  return `${binding.table}|${binding.row}|${binding.field}|v2`;
}

/**
 * The associated data values of the first format (v1) were bound to: the row only, the same for both fields.
 * Kept so that those values still decrypt until `npm run rotate-keys` rewrites them.
 */
export function legacyAssociatedData(binding: SecretBinding): string {
  switch (binding.table) {
    case 'oauth_credentials':
    case 'oauth_flows':
      return binding.row;
    case 'oauth_staged_credentials':
      return `staged-credentials:${binding.row}`;
    case 'webhook_endpoints':
      // Webhook secrets came after v1: none was ever sealed in that format.
      return associatedData(binding);
  }
}
