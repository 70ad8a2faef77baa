// Which generated users hold a seat when a workspace sets `seatHolders`: the index range is cut into
// `seats` consecutive slots of about count/seats users, and each slot has exactly one seat holder at a
// seeded place in it (the owner, index 0, holds the first). So the number of seat holders is exact, they
// spread over the whole id range (and creation history), and "is user i a seat holder" is a pure
// function of (seed, i) — the store can regenerate any user without a list of them.

import { hash32 } from './prng';

function slotStart(k: number, count: number, seats: number): number {
  return Math.floor((k * count) / seats);
}

/** The index of the seat holder of slot k. */
function seatHolderIndex(seed: number, k: number, count: number, seats: number): number {
  if (k === 0) return 0;
  const start = slotStart(k, count, seats);
  const width = slotStart(k + 1, count, seats) - start;
  return start + (hash32(seed, 0x5ea7, k) % width);
}

export function isSeatHolder(seed: number, i: number, count: number, seats: number): boolean {
  let k = Math.floor((i * seats) / count);
  // Floor rounding can put the estimate one slot off either way.
  while (k > 0 && slotStart(k, count, seats) > i) k--;
  while (k + 1 < seats && slotStart(k + 1, count, seats) <= i) k++;
  return seatHolderIndex(seed, k, count, seats) === i;
}

/** seatHolders as a workspace option: an integer from 1 (the owner) to the number of users. */
export function validSeatHolders(seats: number | undefined, count: number): number | undefined {
  if (seats === undefined) return undefined;
  if (!Number.isInteger(seats) || seats < 1 || seats > count) {
    throw new Error(`seatHolders must be an integer from 1 to users (${count}), got ${seats}`);
  }
  return seats;
}
