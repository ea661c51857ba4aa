// A chapter is read as bytes and must be UTF-8. Node's "utf8" decoding would turn any other byte
// into U+FFFD without a word, even inside a string literal that a claim compares; here every
// line with such a byte is an error at its line and column instead.

import type { Diagnostic } from "./diagnostic.ts";

const strict = new TextDecoder("utf-8", { fatal: true });
const lenient = new TextDecoder("utf-8");

/**
 * Length of the well-formed UTF-8 sequence that starts at `i`, or 0 if the bytes there are not
 * one (The Unicode Standard, Table 3-7: no overlong forms, no surrogates, nothing above U+10FFFF).
 */
function sequenceLength(b: Uint8Array, i: number): number {
  const b0 = b[i]!;
  const cont = (j: number, lo = 0x80, hi = 0xbf) => j < b.length && b[j]! >= lo && b[j]! <= hi;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    return cont(i + 1, b0 === 0xe0 ? 0xa0 : 0x80, b0 === 0xed ? 0x9f : 0xbf) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    return cont(i + 1, b0 === 0xf0 ? 0x90 : 0x80, b0 === 0xf4 ? 0x8f : 0xbf) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

const hex = (n: number) => "0x" + n.toString(16).toUpperCase().padStart(2, "0");

/**
 * The chapter's text, and one `not-utf8` error per line that holds a byte that is not UTF-8 (at
 * the first such byte). With errors, the text has U+FFFD in their place, for the page only: a
 * chapter with a diagnostic is not run. Lines end as `splitLines` ends them: CRLF, CR or LF.
 */
export function decodeChapter(file: string, bytes: Uint8Array): { src: string; diagnostics: Diagnostic[] } {
  try {
    return { src: strict.decode(bytes), diagnostics: [] };
  } catch {
    // Fall through: find where.
  }
  const diagnostics: Diagnostic[] = [];
  let line = 1;
  let lineStart = 0;
  let reported = 0; // the last line with an error: one error a line is enough
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!;
    if (b === 0x0a || b === 0x0d) {
      i += b === 0x0d && bytes[i + 1] === 0x0a ? 2 : 1;
      line++;
      lineStart = i;
      continue;
    }
    const n = sequenceLength(bytes, i);
    if (n > 0) { i += n; continue; }
    if (reported !== line) {
      reported = line;
      const col = lenient.decode(bytes.subarray(lineStart, i)).length + 1;
      diagnostics.push({
        file, line, col, stage: "extract", code: "not-utf8",
        message: `byte ${hex(b)} is not UTF-8 (a Latin-1 or Windows-1252 editor?), and would be read as U+FFFD; save the chapter as UTF-8`,
      });
    }
    i++;
  }
  return { src: lenient.decode(bytes), diagnostics };
}
