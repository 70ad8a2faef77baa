// A small, pure comparison of JSON shapes: which keys objects have (always, sometimes), which JSON types
// each path takes (null included, integers apart from other numbers), what arrays hold. Used to check that
// the sandbox sends what real Zendesk responses look like (test/fixtures/zendesk), whatever the values.

export type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

/** Many JSON values merged: how often each type and each key was seen. */
export interface Shape {
  samples: number;
  types: Map<JsonType, number>;
  /** Number of object samples; each key's shape counts the objects that had it. */
  objects: number;
  keys: Map<string, Shape>;
  /** Array elements merged, or (for discriminated paths) merged per discriminator value. */
  items?: Shape;
  groups?: Map<string, Shape>;
}

export interface ShapeOptions {
  /** Paths whose object keys are free (e.g. `user_fields`): only the JSON type is compared. */
  open?: string[];
  /** Array paths whose elements are compared per value of a field, e.g. `{ 'child_events[]': 'event_type' }`. */
  discriminators?: Record<string, string>;
  /** Key paths that may be absent on either side, e.g. `merged_ticket_ids`. */
  optional?: string[];
  /** Paths left out entirely (compared elsewhere). */
  skip?: string[];
}

/**
 * `subset`: everything the actual values show must be allowed by the expected ones (no unknown key, no
 * unknown type, every always-present key present). `exact` also requires the actual values to show every
 * key and type the expected ones show (a fixture's photo object, a nullable field's null…).
 */
export type CompareMode = 'subset' | 'exact';

export function jsonType(v: unknown): JsonType {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'boolean' || typeof v === 'string' || typeof v === 'object') return typeof v as JsonType;
  throw new Error(`not a JSON value: ${typeof v}`);
}

function emptyShape(): Shape {
  return { samples: 0, types: new Map(), objects: 0, keys: new Map() };
}

const child = (path: string, key: string) => (path === '' ? key : `${path}.${key}`);
const itemsPath = (path: string) => `${path}[]`;

/** The merged shape of `values`, all found at `path`. */
export function shapeOf(values: unknown[], opts: ShapeOptions = {}, path = ''): Shape {
  const shape = emptyShape();
  for (const v of values) addSample(shape, v, opts, path);
  return shape;
}

function addSample(shape: Shape, v: unknown, opts: ShapeOptions, path: string): void {
  shape.samples++;
  const t = jsonType(v);
  shape.types.set(t, (shape.types.get(t) ?? 0) + 1);
  if (opts.skip?.includes(path)) return;
  if (t === 'object') {
    shape.objects++;
    if (opts.open?.includes(path)) return;
    for (const [k, value] of Object.entries(v as Record<string, unknown>)) {
      let s = shape.keys.get(k);
      if (!s) shape.keys.set(k, (s = emptyShape()));
      addSample(s, value, opts, child(path, k));
    }
  } else if (t === 'array') {
    const ip = itemsPath(path);
    const disc = opts.discriminators?.[ip];
    for (const item of v as unknown[]) {
      let target: Shape;
      if (disc !== undefined) {
        shape.groups ??= new Map();
        const g = groupKey(item, disc);
        target = shape.groups.get(g) ?? emptyShape();
        shape.groups.set(g, target);
      } else {
        target = shape.items ??= emptyShape();
      }
      addSample(target, item, opts, ip);
    }
  }
}

function groupKey(item: unknown, field: string): string {
  if (item === null || typeof item !== 'object' || Array.isArray(item)) return `<${jsonType(item)}>`;
  return String((item as Record<string, unknown>)[field]);
}

/** An actual integer is fine where the expected values were non-integer numbers (e.g. a latitude of 52). */
function typeAllowed(t: JsonType, expected: Shape): boolean {
  return expected.types.has(t) || (t === 'integer' && expected.types.has('number'));
}

function typeSeen(t: JsonType, actual: Shape): boolean {
  return actual.types.has(t) || (t === 'number' && actual.types.has('integer'));
}

const typeList = (s: Shape) => [...s.types.keys()].sort().join('|');

/** Differences between expected and actual shapes, one readable line each; empty when they agree. */
export function compareShapes(expected: Shape, actual: Shape, mode: CompareMode = 'subset', opts: ShapeOptions = {}): string[] {
  const out: string[] = [];
  compareAt(expected, actual, mode, opts, '', '', out);
  return out;
}

/** `path` is what options name (`a[].b`); `label` adds the discriminator group for messages (`a[]{Comment}.b`). */
function compareAt(expected: Shape, actual: Shape, mode: CompareMode, opts: ShapeOptions, path: string, label: string, out: string[]): void {
  const at = label === '' ? '(root)' : label;
  for (const t of actual.types.keys()) {
    if (!typeAllowed(t, expected)) out.push(`${at}: ${t} is not a type of the real field (${typeList(expected)})`);
  }
  if (mode === 'exact') {
    for (const t of expected.types.keys()) if (!typeSeen(t, actual)) out.push(`${at}: never ${t}, which real responses send`);
  }
  if (opts.skip?.includes(path) || opts.open?.includes(path)) return;

  if (expected.objects > 0 && actual.objects > 0) {
    for (const k of actual.keys.keys()) {
      if (!expected.keys.has(k) && !opts.optional?.includes(child(path, k))) out.push(`${child(label, k)}: a field real responses do not have`);
    }
    for (const [k, e] of expected.keys) {
      const optional = opts.optional?.includes(child(path, k));
      const a = actual.keys.get(k);
      const missing = actual.objects - (a?.samples ?? 0);
      if (!optional && e.samples === expected.objects && missing > 0) out.push(`${child(label, k)}: missing in ${missing} of ${actual.objects}`);
      else if (!optional && mode === 'exact' && !a) out.push(`${child(label, k)}: never present, which real responses have`);
      if (a) compareAt(e, a, mode, opts, child(path, k), child(label, k), out);
    }
  }

  const ip = itemsPath(path);
  const il = itemsPath(label);
  const disc = opts.discriminators?.[ip];
  if (disc !== undefined) {
    const eg = expected.groups ?? new Map<string, Shape>();
    const ag = actual.groups ?? new Map<string, Shape>();
    for (const [g, a] of ag) {
      const e = eg.get(g);
      if (!e) out.push(`${il}: an element with ${disc}=${g}, which real responses do not have`);
      else compareAt(e, a, mode, opts, ip, `${il}{${g}}`, out);
    }
    if (mode === 'exact') for (const g of eg.keys()) if (!ag.has(g)) out.push(`${il}: never an element with ${disc}=${g}`);
  } else if (actual.items && expected.items) {
    compareAt(expected.items, actual.items, mode, opts, ip, il, out);
  } else if (actual.items && !expected.items && expected.types.has('array')) {
    out.push(`${il}: elements where real responses have none`);
  } else if (mode === 'exact' && expected.items && !actual.items && actual.types.has('array')) {
    out.push(`${il}: never an element, which real responses have`);
  }
}

/** Shorthand: compare the shapes of two sets of values. */
export function shapeDifferences(expected: unknown[], actual: unknown[], mode: CompareMode = 'subset', opts: ShapeOptions = {}): string[] {
  return compareShapes(shapeOf(expected, opts), shapeOf(actual, opts), mode, opts);
}
