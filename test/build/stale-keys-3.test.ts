// Edits and builds that must change a chapter's key (hash.ts chapterHash) or keep a build from
// caching: each case served a stale result (found by a third review, December 2026, after
// stale-keys.test.ts's and stale-keys-2.test.ts's fixes; none occurred in the book).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { SourceCache } from "../../build/src/hash.ts";
import { build } from "../../build/src/pipeline.ts";
import { md, staleCheck } from "./stale-check.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

test("another chapter's `declare global` types this chapter, which does not import it (chapterHash)", async () => {
  const a = md("A", "const n: Answer = 1;", { T: "n;" });
  const b = (g: string) => md("B", `${g}\nexport const x = 1;`);
  await staleCheck("stale-keys-3", "declare-global", { "01-a.md": a, "02-b.md": b("declare global { type Answer = number; }") }, { "02-b.md": b("") }, "01-a.md");
});

test("a build with --unconfined and the cache: its chapter results are served to a confined build (chapterHash)", async () => {
  const dir = path.join(ROOT, "test-results", "stale-keys-3", "unconfined");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "01-a.md"), md("A", "export const f = (): number => Math.random();", { T: "f();" }));
  const once = async (cacheDir: string | null, unconfined: boolean) => {
    const out = await build({ root: ROOT, chaptersDir: dir, resultsFile: path.join(dir, "r.json"), cacheDir, unconfined, onUnit: () => {} });
    return JSON.stringify(out.results.chapters[0]!.blocks.map((b) => [b.id, b.status]));
  };
  const loose = await once(path.join(dir, "cache"), true);
  const cached = await once(path.join(dir, "cache"), false);
  const fresh = await once(null, false);
  expect(fresh).not.toBe(loose);
  expect(cached).toBe(fresh);
});

test("a file read for the keys and saved again before the run ends is seen, so that build caches nothing (watch mode's save during a build)", () => {
  const dir = path.join(ROOT, "test-results", "stale-keys-3", "saved");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lib = path.join(dir, "lib.ts");
  writeFileSync(lib, "export const v = 1;\n");
  const cache = new SourceCache(new Map());
  expect(cache.digest(lib)).toBeTruthy();
  expect(cache.changedOnDisk()).toBe(false);
  writeFileSync(lib, "export const v = 2;\n");
  expect(cache.changedOnDisk()).toBe(true);
  writeFileSync(lib, "export const v = 1;\n");
  expect(cache.changedOnDisk()).toBe(false);
  rmSync(lib);
  expect(cache.changedOnDisk()).toBe(true);
});
