/**
 * Whether a secret chosen by an operator (ADMIN_API_KEY) looks like at least 32 random bytes. Its
 * randomness cannot be proven from the text, so this refuses what is certainly weaker: too short for 32
 * bytes in its alphabet (64 hex digits, else 43 characters: 32 bytes of base64), too few distinct symbols
 * (`aaaa…`, a repeated word) or a repeated pattern (`0123…f` four times).
 *
 * The thresholds sit well below what random keys reach: over 100,000 keys each of `openssl rand -base64 32`,
 * base64url and hex, the empirical entropy was at least 182 bits and at least 88 % of the three-character
 * substrings were distinct.
 */
const MIN_SHANNON_BITS = 160;
const MIN_DISTINCT_TRIGRAMS = 0.75;

export function looksLike32RandomBytes(text: string): boolean {
  const minLength = /^[0-9a-fA-F]+$/.test(text) ? 64 : 43;
  if (text.length < minLength) return false;
  return shannonBits(text) >= MIN_SHANNON_BITS && distinctTrigrams(text) >= MIN_DISTINCT_TRIGRAMS;
}

/** Length × the empirical entropy per character. */
function shannonBits(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) bits -= n * Math.log2(n / text.length);
  return bits;
}

/** The share of three-character substrings that occur once: low for anything periodic. */
function distinctTrigrams(text: string): number {
  const seen = new Set<string>();
  for (let i = 0; i + 3 <= text.length; i++) seen.add(text.slice(i, i + 3));
  return seen.size / (text.length - 2);
}
