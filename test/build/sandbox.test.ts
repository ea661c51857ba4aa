// The chapter sandbox (build/src/run.ts, build/src/sandbox/): verdicts that depend on nothing
// but the model. A slower, busier machine gives the same records; a chapter that patches lib/,
// the language or an earlier chapter changes nobody's records but its own; the cache never
// keeps a run the watchdog cut short.

import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, test } from "vitest";
import { extract, type Extract } from "../../build/src/extract.ts";
import { listChapters } from "../../build/src/pipeline.ts";
import type { ChapterResult, Results } from "../../build/src/results.ts";
import { runChapters, type ModuleRun } from "../../build/src/run.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const FIXTURES = path.join(ROOT, "test/fixtures/book");
// Three folders below the root, like the fixture book, so that its `../../../lib/` imports hold.
const WORK = path.join(ROOT, "test-results/sandbox");

/** A record without what may differ between two runs of the same search: wall-clock times. */
function timeless(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(timeless);
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== "ms" && k !== "durationMs").map(([k, x]) => [k, timeless(x)]));
  }
  return v;
}

async function extractsOf(dir: string): Promise<Map<string, Extract>> {
  const m = new Map<string, Extract>();
  for (const f of await listChapters(dir)) m.set(f, extract(path.relative(ROOT, f), await readFile(f, "utf8")));
  return m;
}

const recordsOf = (m: ModuleRun) => m.tests.map((t) => ({ name: t.name, state: t.state, records: timeless(t.meta?.records ?? []) }));

/** Keeps a core busy until stopped: the machine CI may give us. */
function busyCore(): () => Promise<void> {
  const src = `const { parentPort } = require("node:worker_threads"); let stop = false; parentPort.on("message", () => { stop = true; });
    const spin = () => { const t = Date.now(); while (Date.now() - t < 50) {} if (!stop) setImmediate(spin); else process.exit(0); }; spin();`;
  const ws = [new Worker(src, { eval: true })];
  return async () => {
    await Promise.all(ws.map((w) => new Promise((r) => { w.once("exit", r); w.postMessage("stop"); })));
  };
}

describe("verdicts do not depend on the machine's speed", () => {
  test("two kernel-model claims give the same records with every step slower and a core kept busy", async () => {
    const chapters = path.join(ROOT, "chapters");
    const extracts = await extractsOf(chapters);
    const cases = [
      // Each took 1-2 s on an idle 2-core machine before the sandbox; the slow run takes several times that.
      { file: path.join(chapters, "02-two-paths-in-one-file.md"), blocks: ["C02.7-regress-rangeend"] },
      { file: path.join(chapters, "05-khugepaged-is-not-userspace.md"), blocks: ["C05.1-now"] },
    ];
    for (const c of cases) {
      const normal = (await runChapters(ROOT, [c.file], extracts, { only: c.blocks, workers: 1 })).modules[0]!;
      const stopBusy = busyCore();
      let slow: ModuleRun;
      try {
        slow = (await runChapters(ROOT, [c.file], extracts, { only: c.blocks, workers: 1, slowdown: 500 })).modules[0]!;
      } finally {
        await stopBusy();
      }
      const ran = normal.tests.filter((t) => t.state !== "skipped");
      expect(ran.map((t) => t.name)).toEqual(c.blocks);
      expect(ran.every((t) => t.state === "passed"), JSON.stringify(normal.tests.map((t) => t.error))).toBe(true);
      expect(recordsOf(slow)).toEqual(recordsOf(normal));
    }
  });
});

describe("no chapter can change another chapter's result", () => {
  const victims = ["00-ok.md", "18-claims.md"];
  const culprits = ["30-patch-lib.md", "31-patch-global.md", "32-mutate-earlier.md", "35-infinite-loop.md"];
  afterAll(() => rmSync(WORK, { recursive: true, force: true }));

  function book(name: string, files: string[]): string {
    const dir = path.join(WORK, name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const f of files) cpSync(path.join(FIXTURES, f), path.join(dir, f));
    return dir;
  }

  function build(dir: string, cache: string | null): Results {
    const results = path.join(dir, "..", `${path.basename(dir)}.results.json`);
    try {
      execFileSync(process.execPath, [path.join(ROOT, "dist/build/src/cli.js"), "build", "--chapters", dir, "--results", results, "--no-site",
        ...(cache ? ["--cache-dir", cache] : ["--no-cache"])], { cwd: ROOT, stdio: "pipe", env: { ...process.env, BOOK_STALL_S: "10" } });
    } catch {
      // The culprits fail on purpose.
    }
    return JSON.parse(readFileSync(results, "utf8")) as Results;
  }

  const byName = (r: Results, name: string): ChapterResult => r.chapters.find((c) => c.file.endsWith(name))!;
  /** A chapter's outcome, with the book's folder name taken out of its paths. */
  const view = (c: ChapterResult) => JSON.parse(JSON.stringify(timeless({ status: c.status, blocks: c.blocks.map((b) => ({ id: b.id, status: b.status, failure: b.failure, records: b.records })) }))
    .replaceAll(path.dirname(c.file) + "/", "<book>/"));

  test("patching chapters fail at their own lines, their neighbours' records stay as without them, and the cache keeps only what it can reproduce", () => {
    const cache = path.join(WORK, "cache");
    rmSync(cache, { recursive: true, force: true });
    const clean = build(book("clean", victims), null);
    const poisoned = build(book("poisoned", [...victims, ...culprits]), cache);
    for (const v of victims) expect(view(byName(poisoned, v)), v).toEqual(view(byName(clean, v)));
    // Every culprit failed, at a line of its own file.
    for (const c of culprits) {
      const r = byName(poisoned, c);
      expect(r.status, c).toBe("failed");
      const failures = r.blocks.filter((b) => b.status === "failed");
      expect(failures.length, c).toBeGreaterThan(0);
      for (const b of failures) expect(b.failure?.at?.file, `${c} ${b.id}`).toBe(r.file);
    }
    // The watchdog's cut is reported, never cached; every other chapter is.
    const loop = byName(poisoned, "35-infinite-loop.md");
    expect(existsSync(path.join(cache, loop.hash + ".json"))).toBe(false);
    for (const v of victims) expect(existsSync(path.join(cache, byName(poisoned, v).hash + ".json")), v).toBe(true);
    // With the culprits gone, the victims come from the cache, and equal a fresh run.
    const after = build(book("poisoned", victims), cache);
    for (const v of victims) {
      expect(byName(after, v).cached, v).toBe(true);
      expect(view(byName(after, v)), v).toEqual(view(byName(clean, v)));
    }
  });
});
