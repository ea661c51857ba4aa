// A `skip` block's page says how to run it: the build leaves it out (a search too long for
// every build, build/README.md), and a reader who wants its verdict runs it by name.
import { expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { renderChapter } from "../../build/src/render.ts";
import type { ChapterResult } from "../../build/src/results.ts";

test("a skipped block shows the command that runs it", () => {
  const file = "chapters/99-t.md";
  const src = "# T\n\n```ts test id=slow skip\nconst x = 1;\n```\n\n```ts test id=quick\nconst y = 2;\n```\n";
  const ex = extract(file, src);
  const block = (id: string, line: number, skip: boolean) => ({
    id, line, endLine: line + 2, kind: "test" as const, flags: { skip, fails: false, hidden: false },
    status: skip ? ("skipped" as const) : ("passed" as const), durationMs: skip ? null : 1, failure: null, records: [],
  });
  const ch: ChapterResult = {
    file, title: "T", status: "passed", hash: "h", cached: false, durationMs: 1, diagnostics: [], passed: 1, failed: 0, skipped: 1,
    blocks: [block("slow", 3, true), block("quick", 7, false)],
  };
  const html = renderChapter(src, ex, ch);
  expect(html).toContain("npm run -s chapter -- chapters/99-t.md slow");
  expect(html).not.toContain("npm run -s chapter -- chapters/99-t.md quick");
});
