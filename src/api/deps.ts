import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import type { ApiConfig } from '../config';
import type { SecretBox } from '../crypto/secretBox';
import type { Database } from '../db/tables';
import type { Logger } from '../logger';

export interface ApiDeps {
  db: Kysely<Database>;
  box: SecretBox;
  config: ApiConfig;
  temporal: Client;
  logger: Logger;
}
