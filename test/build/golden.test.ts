// Golden fixtures: every bad input of test/fixtures/book/ against its reviewed baselines
// (`<name>.extract.json`, `<name>.diagnostics.txt`, `<name>.results.json`). A behaviour change
// shows up as a diff of those files. Refresh them on purpose with:
//   npm run compile && UPDATE_GOLDEN=1 npx vitest run test/build/golden.test.ts

import { existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { extract } from "../../build/src/extract.ts";
import { formatDiagnostic, formatWarning } from "../../build/src/diagnostic.ts";
import type { ChapterResult, Results } from "../../build/src/results.ts";
import type { BoundedWitness } from "../../build/src/bound.ts";
import { fixtureBook } from "../fixture-book.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const BOOK = path.join(ROOT, "test/fixtures/book");
const UPDATE = process.env.UPDATE_GOLDEN === "1";
const fixtures = readdirSync(BOOK).filter((f) => f.endsWith(".md")).sort();

/** What 33-escapes.md tries to write from inside its sandbox. */
const ESCAPED = "/tmp/userptr-rfc-escaped.txt";
let results: Results;
let exitCode = 0;
let out = "";
/** Where the fixture book's results and site were written. */
let resultsFile = "";
let site = "";

beforeAll(() => {
  // The build under test is the compiled CLI, as `npm run build` runs it (npm test compiles first);
  // the Playwright specs serve the same build (fixture-book.ts).
  rmSync(ESCAPED, { force: true });
  const book = fixtureBook();
  ({ out, exitCode, site, results: resultsFile } = book);
  results = JSON.parse(readFileSync(resultsFile, "utf8"));
}, 300_000);

test("no chapter of the fixture book could write outside the machine", () => {
  expect(existsSync(ESCAPED), `${ESCAPED} exists: a chapter escaped its sandbox`).toBe(false);
});

/** Drops what changes from run to run: times, hashes, cache flags. */
function normalise(c: ChapterResult) {
  return {
    ...c, hash: "<hash>", durationMs: "<ms>", cached: "<cached>",
    blocks: c.blocks.map((b) => ({
      ...b,
      durationMs: b.durationMs === null ? null : "<ms>",
      records: b.records.map((r) => (r && typeof r === "object" && "stats" in r ? withoutBlob({ ...r, stats: { ...(r as { stats: object }).stats, ms: "<ms>" } }) : r)),
    })),
  };
}

/** A cut witness carries its whole trace compressed: the bytes are zlib's business, not the baseline's. */
function withoutBlob(r: object): object {
  const w = (r as { witness?: BoundedWitness }).witness;
  if (!w?.cut?.full) return r;
  return { ...r, witness: { ...w, cut: { ...w.cut, full: { ...w.cut.full, bytes: "<bytes>", data: "<gzip+base64>" } } } };
}

function golden(file: string, actual: string) {
  const p = path.join(BOOK, file);
  if (!UPDATE && !existsSync(p)) throw new Error(`${file} has no baseline yet; create it with UPDATE_GOLDEN=1 and review it`);
  if (UPDATE) writeFileSync(p, actual);
  expect(actual, `${file} differs from its baseline; if the change is intended, refresh with UPDATE_GOLDEN=1`).toBe(readFileSync(p, "utf8"));
}

test("a book with bad chapters exits non-zero and still writes every chapter's result", () => {
  expect(exitCode).toBe(1);
  expect(results.chapters.map((c) => path.basename(c.file))).toEqual(fixtures);
  expect(out).toMatch(/^\d+ passed, \d+ failed, \d+ skipped$/m);
});

describe.each(fixtures)("%s", (name) => {
  const base = name.replace(/\.md$/, "");
  const rel = `test/fixtures/book/${name}`;

  test("extract", () => {
    const ex = extract(rel, readFileSync(path.join(BOOK, name), "utf8"));
    golden(`${base}.extract.json`, JSON.stringify(ex, null, 2) + "\n");
  });

  test("diagnostics, in the terminal and in results.json", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    const lines = [...(c.warnings ?? []).map(formatWarning), ...c.diagnostics.map(formatDiagnostic)];
    golden(`${base}.diagnostics.txt`, lines.join("\n") + (lines.length ? "\n" : ""));
    for (const l of lines) expect(out).toContain(l);
  });

  test("results", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    // Claim messages quote their search time ("34 steps, 2 ms"): the one volatile word in them.
    golden(`${base}.results.json`, JSON.stringify(normalise(c), null, 2).replace(/\b\d+(\.\d+)? (ms|s)\b/g, "<t> $2") + "\n");
  });

  test("the page keeps its own title, failing or not (mkdocs reads it from a leading H1)", () => {
    const md = readFileSync(path.join(BOOK, name), "utf8");
    const h1 = /^# (.*)$/m.exec(md)?.[1];
    if (!h1) return;
    const html = readFileSync(path.join(site, base, "index.html"), "utf8");
    expect(/<title>([^<]*)<\/title>/.exec(html)?.[1]).toContain(h1.slice(0, 20));
  });

  test("the page shows every failure and warning at its line", () => {
    const c = results.chapters.find((x) => x.file === rel)!;
    const html = readFileSync(path.join(site, base, "index.html"), "utf8");
    for (const d of [...c.diagnostics, ...(c.warnings ?? [])]) expect(html).toContain(`${d.file}:${d.line}:${d.col}`);
    for (const b of c.blocks.filter((x) => x.status === "failed")) {
      expect(html).toContain(`data-block-id="${b.id}" data-status="failed"`);
      if (b.failure?.at) expect(html).toContain(`${b.failure.at.file}:${b.failure.at.line}:${b.failure.at.col}`);
    }
  });
});

// Issue 12, item 6: a witness of 100 000 steps (38-long-witness.md) leaves the page under 1 MB and
// results.json under 5 MB, and the render stage never walks its whole trace.
describe("output is bounded", () => {
  const MB = 1024 * 1024;
  test("results.json stays under 5 MB and keeps the ends of the long trace, with counts of the rest", () => {
    expect(statSync(resultsFile).size).toBeLessThan(5 * MB);
    const c = results.chapters.find((x) => x.file.endsWith("38-long-witness.md"))!;
    const w = (c.blocks.find((b) => b.id === "F20")!.records[0] as { witness: BoundedWitness }).witness;
    expect(w.steps).toBeGreaterThanOrEqual(100_000);
    expect(w.cut!.total).toBe(w.cut!.omitted + w.trace.length);
    expect(w.cut!.gaps.reduce((n, g) => n + g.count, 0)).toBe(w.cut!.omitted);
    expect(w.trace.at(-1)!.step).toBe(w.steps - 1);
  });

  test("the page stays under 1 MB and links the whole trace, compressed, which has every step", () => {
    const html = readFileSync(path.join(site, "38-long-witness/index.html"), "utf8");
    expect(Buffer.byteLength(html)).toBeLessThan(1 * MB);
    const href = /class="book-trace-full" href="([^"]+)"/.exec(html)![1]!;
    const text = gunzipSync(readFileSync(path.join(site, "38-long-witness", href))).toString("utf8");
    const lines = text.split("\n");
    expect(lines.length).toBeGreaterThan(100_000);
    expect(lines.at(-1)).toMatch(/^OVERRUN in walker at step \d+: walked 100000 pages$/);
    expect(html).toContain("left out of this page");
  });

  test("the search index leaves out each witness's swimlane and text trace, which stay on its page", () => {
    const html = readFileSync(path.join(site, "38-long-witness/index.html"), "utf8");
    expect(html).toContain('<div class="book-swimlane"');
    expect(html).toContain("<summary>the same trace as text</summary>");
    expect(html).toContain("F20: witness trace");   // the swimlane's <title>
    expect(html, "a region the hook held back did not come back").not.toContain("book:held:");
    const index = JSON.parse(readFileSync(path.join(site, "search/search_index.json"), "utf8")) as { docs: { location: string; text: string }[] };
    const text = index.docs.filter((d) => d.location.startsWith("38-long-witness/")).map((d) => d.text).join("\n");
    expect(text).toContain("F20");   // the claim itself is found
    expect(text).not.toContain("the same trace as text");
    expect(text).not.toContain("witness trace");
  });

  test("every page of the fixture site stays under 1 MB", () => {
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith(".html") ? [path.join(dir, e.name)] : []);
    for (const f of walk(site)) expect(statSync(f).size, f).toBeLessThan(1 * MB);
  });

  test("the render stage takes under 30 s (it took 182 s when it walked the whole trace)", () => {
    // Not a speed test: CI's machine may be slow and busy, and nothing may fail for that. The
    // bound only catches a render that walks whole traces again, which took 182 s here; it takes
    // well under a second when it sees only bounded records (the test above checks those).
    expect(results.timings.render).toBeLessThan(30_000);
  });
});

// Issue 15: a claim about an era says which kernels and why. Without evidence it fails at its
// `claim(` line before its search; with evidence, the page shows it beside the verdict.
describe("evidence beside every verdict", () => {
  test("an era claim without evidence fails at its claim( line, saying what to add; malformed evidence too", () => {
    const c = results.chapters.find((x) => x.file.endsWith("39-era-without-evidence.md"))!;
    const block = (id: string) => c.blocks.find((b) => b.id === id)!;
    expect(block("no-evidence").status).toBe("failed");
    expect(block("no-evidence").records).toEqual([]);
    expect(block("no-evidence").failure).toMatchObject({ at: { file: c.file, line: 18 }, message: expect.stringMatching(/G1 speaks of era "2018" but has no evidence: add evidence/) });
    expect(block("bad-evidence").failure).toMatchObject({ at: { file: c.file, line: 28 }, message: expect.stringMatching(/G3: evidence commit id "aa56a292ce6" is not 12/) });
    expect(block("with-evidence").status).toBe("passed");
    expect(out).toContain(`${c.file}:18`);
  });

  test("the page shows a claim's kernels and commits beside its verdict", () => {
    const html = readFileSync(path.join(site, "18-claims", "index.html"), "utf8");
    const f1 = html.slice(html.indexOf('data-claim-id="F1"'));
    expect(f1.slice(0, f1.indexOf("book-witness"))).toMatch(/class="book-evidence".*v4\.16.*aa56a292ce62.*Acquire the page lock around set_page_dirty\(\)/);
    expect(html).toMatch(/class="book-evidence".*v6\.6, v6\.18.*analysis of <code>kernel\/locking\/mutex\.c<\/code>/);
  });
});
