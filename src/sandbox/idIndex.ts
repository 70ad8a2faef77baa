// A sorted set of user-store indexes ordered by user id, in a typed array: the per-role index of active
// agents and admins. The role-filtered users list walks it instead of every user, so a page costs
// O(page) whatever the number of end users. Inserts and removals shift the array (O(staff)), which is
// cheap at thousands of seat holders and happens only on a test's role change.

export class IdIndex {
  private items = new Uint32Array(16);
  private n = 0;

  constructor(private readonly idOf: (index: number) => number) {}

  get size(): number {
    return this.n;
  }

  /** The store index of the k-th member in id order. */
  at(k: number): number {
    return this.items[k]!;
  }

  /** Appends a member whose id is above every member's (bulk load in id order). */
  push(index: number): void {
    if (this.n > 0 && this.idOf(this.items[this.n - 1]!) >= this.idOf(index)) throw new Error('IdIndex.push out of order');
    this.reserve(this.n + 1);
    this.items[this.n++] = index;
  }

  insert(index: number): void {
    const k = this.lowerBound(this.idOf(index));
    if (k < this.n && this.items[k] === index) return;
    this.reserve(this.n + 1);
    this.items.copyWithin(k + 1, k, this.n);
    this.items[k] = index;
    this.n++;
  }

  remove(index: number): void {
    const k = this.lowerBound(this.idOf(index));
    if (k >= this.n || this.items[k] !== index) return;
    this.items.copyWithin(k, k + 1, this.n);
    this.n--;
  }

  /** First k whose id is >= id. */
  lowerBound(id: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idOf(this.items[mid]!) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First k whose id is > id. */
  upperBound(id: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.idOf(this.items[mid]!) <= id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private reserve(n: number): void {
    if (n <= this.items.length) return;
    const next = new Uint32Array(Math.max(n, this.items.length * 2));
    next.set(this.items.subarray(0, this.n));
    this.items = next;
  }
}
