// build/src/sandbox/transpile-cache.ts: a module compiled from the cache is the one compiled
// afresh; a second compiler over the same folder reads its entries; a damaged entry is redone.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { ModuleCompiler } from "../../build/src/sandbox/modules.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ENTRY = path.join(ROOT, "lib/explorer/index.ts");

const bundle = (dir: string | null) => new ModuleCompiler(ROOT, new Map(), dir).bundleOf(ENTRY, [ENTRY]);
const entries = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => path.join(dir, f));

test("a cached compile equals a fresh one, and the next compiler over the folder reads the entries", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "transpile-cache-"));
  const fresh = bundle(null);
  expect(bundle(dir)).toEqual(fresh);
  expect(entries(dir)).toHaveLength(Object.keys(fresh.modules).length);
  expect(bundle(dir)).toEqual(fresh);
  // Mark every entry: a compiler that reads them carries the mark, one that transpiles does not.
  for (const f of entries(dir)) {
    const e = JSON.parse(readFileSync(f, "utf8")) as { outputText: string };
    writeFileSync(f, JSON.stringify({ ...e, outputText: e.outputText + "\nvoid 'from the cache';\n" }));
  }
  const read = bundle(dir);
  expect(Object.values(read.modules).every((m) => m.code.includes("from the cache"))).toBe(true);
});

test("a damaged entry is transpiled again and rewritten", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "transpile-cache-"));
  const fresh = bundle(dir);
  entries(dir).forEach((f, i) => writeFileSync(f, i % 2 ? "{" : '{"outputText": 1}'));
  expect(bundle(dir)).toEqual(fresh);
  expect(entries(dir).every((f) => typeof (JSON.parse(readFileSync(f, "utf8")) as { outputText: unknown }).outputText === "string")).toBe(true);
});
