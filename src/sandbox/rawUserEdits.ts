// Raw edits of served user JSON, for tests of a tolerant reader: values no model would produce (role
// "superhero", role_type 9) and fields removed outright (updated_at, active). They change only what is
// sent; the sandbox's own model of the user (auth, role filters, seat of the consenting user) is untouched.

export interface RawUserEdit {
  /** Keys set to these exact JSON values (existing keys keep their position, new ones are appended). */
  set: Record<string, unknown>;
  /** Keys left out of the JSON. */
  remove: Set<string>;
}

export class RawUserEdits {
  private readonly edits = new Map<number, RawUserEdit>();

  set(id: number, fields: Record<string, unknown>): void {
    const e = this.editOf(id);
    for (const [k, v] of Object.entries(fields)) {
      e.set[k] = v;
      e.remove.delete(k); // setting a removed field brings it back
    }
  }

  remove(id: number, fields: string[]): void {
    const e = this.editOf(id);
    for (const k of fields) {
      e.remove.add(k);
      delete e.set[k];
    }
  }

  /** Forgets the edits of one user, or of everyone. */
  clear(id?: number): void {
    if (id === undefined) this.edits.clear();
    else this.edits.delete(id);
  }

  get size(): number {
    return this.edits.size;
  }

  /** The served JSON of user `id`: `json` with its raw edits, key order kept. */
  apply<T extends object>(id: number, json: T): T {
    const e = this.edits.get(id);
    if (!e) return json;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(json)) {
      if (e.remove.has(k)) continue;
      out[k] = k in e.set ? e.set[k] : v;
    }
    for (const [k, v] of Object.entries(e.set)) if (!(k in out)) out[k] = v;
    return out as T;
  }

  private editOf(id: number): RawUserEdit {
    let e = this.edits.get(id);
    if (!e) {
      e = { set: {}, remove: new Set() };
      this.edits.set(id, e);
    }
    return e;
  }
}
