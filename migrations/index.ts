import type { Migration } from 'kysely';
import * as initial from './20261125T140000_initial';

/**
 * Every migration, by its timestamped name. A static list (rather than a folder scan) works the same
 * under tsx, in compiled dist/ and in a bundle.
 */
export const migrations: Record<string, Migration> = {
  '20261125T140000_initial': initial,
};
