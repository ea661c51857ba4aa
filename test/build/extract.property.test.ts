// Property: whatever Markdown surrounds a ```ts fence (other fences, longer fences holding
// shorter backtick runs, tildes, indents, list items, block quotes, CRLF), the extractor gives
// back exactly the code that was written, at exactly the line it was written on.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";

type Container = "none" | "indent" | "list" | "quote";

interface Fence {
  kind: "fence";
  char: "`" | "~";
  len: number;
  lang: "ts" | "sh" | "";
  container: Container;
  indent: number;
  code: string[];
}
type Segment = { kind: "prose"; lines: string[] } | Fence;

const word = fc.stringMatching(/^[A-Za-z][A-Za-z0-9 .,;:()=+*'"{}<>-]{0,20}$/);
// Code may hold backtick or tilde runs shorter than its fence, and tabs after the first character.
const codeLine = (f: { char: string; len: number }) =>
  fc.tuple(word, fc.constantFrom("", "\t", f.char.repeat(f.len - 1), "``", "~~"), word).map(([a, b, c]) => `${a}${b}${c}`);

const fence: fc.Arbitrary<Fence> = fc
  .record({
    char: fc.constantFrom("`" as const, "~" as const),
    len: fc.integer({ min: 3, max: 5 }),
    lang: fc.constantFrom("ts" as const, "sh" as const, "" as const),
    container: fc.constantFrom<Container>("none", "indent", "list", "quote"),
    indent: fc.integer({ min: 1, max: 3 }),
  })
  .chain((f) => fc.array(codeLine(f), { minLength: 0, maxLength: 4 }).map((code) => ({ kind: "fence" as const, ...f, code })));

const prose: fc.Arbitrary<Segment> = fc.array(word, { minLength: 1, maxLength: 3 }).map((lines) => ({ kind: "prose" as const, lines }));
const doc = fc.tuple(fc.array(fc.oneof(prose, fence), { minLength: 1, maxLength: 8 }), fc.constantFrom("\n", "\r\n"));

function renderFence(f: Fence): string[] {
  const open = f.char.repeat(f.len) + f.lang;
  const body = [open, ...f.code, f.char.repeat(f.len)];
  switch (f.container) {
    case "none": return body;
    case "indent": return body.map((l) => " ".repeat(f.indent) + l);
    case "list": return body.map((l, i) => (i === 0 ? "- " : "  ") + l);
    case "quote": return body.map((l) => "> " + l);
  }
}

describe("extract keeps every block's line and text exact", () => {
  test("arbitrary documents", () => {
    fc.assert(
      fc.property(doc, ([segments, eol]) => {
        const lines: string[] = [];
        const expected: { line: number; code: string }[] = [];
        for (const s of segments) {
          lines.push(""); // a blank line ends lists and quotes, so segments do not merge
          if (s.kind === "prose") { lines.push(...s.lines); continue; }
          if (s.lang === "ts") expected.push({ line: lines.length + 1, code: s.code.join("\n") });
          lines.push(...renderFence(s));
        }
        const ex = extract("chapters/x.md", lines.join(eol));
        expect(ex.diagnostics).toEqual([]);
        expect(ex.blocks.map((b) => ({ line: b.fenceLine, code: b.code }))).toEqual(expected);
        for (const b of ex.blocks) {
          // The column offset points at the code inside its container.
          b.code.split("\n").forEach((c, i) => {
            if (c) expect(lines[b.codeLine - 1 + i]!.slice(b.colOffset[i])).toBe(c);
          });
        }
      }),
      { numRuns: 400 },
    );
  });

  test("an unclosed fence is reported at its opening line, and a long fence is not closed by a short one", () => {
    const ex = extract("chapters/x.md", "# t\n\n````ts\nconst a = '```';\n```\nmore\n");
    expect(ex.blocks[0]!.code).toBe("const a = '```';\n```\nmore");
    expect(ex.diagnostics.map((d) => [d.line, d.code])).toEqual([[3, "unclosed-fence"]]);
  });

  test("a non-ts fence and a `tsx` fence are not blocks", () => {
    const ex = extract("chapters/x.md", "```tsx\na\n```\n\n```typescript\nb\n```\n");
    expect(ex.blocks).toEqual([]);
  });
});
