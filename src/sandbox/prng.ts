// Small deterministic PRNG helpers. Everything the generator produces is derived from
// (seed, index) hashes so that one user or event can be re-materialised on demand
// without keeping the whole object in memory.

const TWO_32 = 4294967296;

/** Mixes any number of numbers (including integers up to 2^53) into one 32-bit unsigned hash. */
export function hash32(...parts: number[]): number {
  let h = 0x9e3779b9 | 0;
  for (const part of parts) {
    // Split into two 32-bit words so ids above 2^32 hash by all of their bits.
    const v = Number.isFinite(part) ? part : 0;
    const lo = (v % TWO_32) >>> 0;
    const hi = Math.floor(Math.abs(v) / TWO_32) >>> 0;
    h = mix(h ^ lo);
    h = mix(h ^ hi ^ 0x27d4eb2d);
  }
  return fmix(h) >>> 0;
}

function mix(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/** mulberry32: fast, good enough statistically, fully reproducible across platforms. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = hash32(seed) | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  }

  /** Integer in [min, max] inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: ArrayLike<T>): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks a value by relative weight: weighted([['a', 3], ['b', 1]]). */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [value, w] of choices) {
      r -= w;
      if (r < 0) return value;
    }
    return choices[choices.length - 1]![0];
  }
}
