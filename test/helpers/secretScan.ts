import { sql, type Kysely } from 'kysely';

/**
 * Where a leaked secret could hide, as searchable text: Temporal payloads decoded (their `data` arrive as
 * bytes, or as base64 in a fetched history, which a plain search would never match) and every row of
 * every table.
 */
export function decodedJson(value: unknown): string {
  return JSON.stringify(value, (key, v) => {
    if (v instanceof Uint8Array) return Buffer.from(v).toString('utf8');
    if (key === 'data' && typeof v === 'string') return `${v} ${Buffer.from(v, 'base64').toString('utf8')}`;
    return typeof v === 'bigint' ? String(v) : v;
  });
}

export async function databaseDump(db: Kysely<any>): Promise<string> {
  const tables = (
    await sql<{ t: string }>`select table_name as t from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(db)
  ).rows.map((r) => r.t);
  const out: string[] = [];
  for (const table of tables) {
    const rows = await sql<{ row: string }>`select row_to_json(t)::text as row from ${sql.table(table)} t`.execute(db);
    for (const r of rows.rows) out.push(r.row); // no spread: other test files' rows can be many
  }
  return out.join('\n');
}
