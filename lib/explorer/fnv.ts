// FNV-1a, 32 bits: a small, stable, non-cryptographic hash of a string (UTF-16 code units), for
// numbers that must be the same in every execution and every process (an outcome set's digest,
// an sg table's field owner). Not for anything an adversary chooses.

/** FNV-1a of `text`, as an unsigned 32-bit integer. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
