// Chapters are read as bytes: a byte that is not UTF-8 is an error at its line and column.

import fc from "fast-check";
import { expect, test } from "vitest";
import { decodeChapter } from "../../build/src/utf8.ts";

const at = (bytes: number[]) => decodeChapter("c.md", Uint8Array.from(bytes)).diagnostics.map((d) => `${d.line}:${d.col} ${d.message.split(" ")[1]}`);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

test("valid UTF-8 decodes as TextDecoder does, with no diagnostics", () => {
  const r = decodeChapter("c.md", new TextEncoder().encode("# café\n\u{1F600} ok\r\n"));
  expect(r).toEqual({ src: "# café\n\u{1F600} ok\r\n", diagnostics: [] });
});

test("each bad line is reported once, at the first bad byte, counting CRLF, CR and LF as line ends", () => {
  expect(at([...ascii("a\r\nb\rcd"), 0xe9, 0x20, 0xe9, ...ascii("\nok\n"), 0xff])).toEqual(["3:3 0xE9", "5:1 0xFF"]);
});

test("overlong forms, surrogates, code points above U+10FFFF and a truncated sequence are not UTF-8", () => {
  expect(at([0xc0, 0xaf])).toEqual(["1:1 0xC0"]);
  expect(at([...ascii("x"), 0xed, 0xa0, 0x80])).toEqual(["1:2 0xED"]);
  expect(at([0xf4, 0x90, 0x80, 0x80])).toEqual(["1:1 0xF4"]);
  expect(at([...ascii("e is "), 0xc3])).toEqual(["1:6 0xC3"]);
});

test("an error is reported exactly when TextDecoder's fatal mode refuses the bytes", () => {
  const strict = new TextDecoder("utf-8", { fatal: true });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => {
    let valid = true;
    try { strict.decode(bytes); } catch { valid = false; }
    expect(decodeChapter("c.md", bytes).diagnostics.length === 0).toBe(valid);
  }), { numRuns: 2000 });
});
