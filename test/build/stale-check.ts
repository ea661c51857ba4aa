// The stale-key check of stale-keys.test.ts and stale-keys-2.test.ts: build a small book with the
// unit cache, edit it, and build it again with that cache and with none. The two must show the
// same (a key that did not change with the edit would serve the old result), and the edit must
// matter (a build without the cache shows something else than before it).
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { build } from "../../build/src/pipeline.ts";
import { ModuleCompiler } from "../../build/src/sandbox/modules.ts";
import { ChapterTypeChecker } from "../../build/src/typecheck.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

/** A chapter: one definition block, then test blocks by id. */
export const md = (title: string, defs: string, tests: Record<string, string> = {}) =>
  [`# ${title}`, "", "```ts", defs, "```", "", ...Object.entries(tests).flatMap(([id, code]) => [`\`\`\`ts test id=${id}`, code, "```", ""])].join("\n");

// One type checker and compiler for every build of a test file, as watch mode keeps them (about twice as fast).
let session: { checker: ChapterTypeChecker; compiler: ModuleCompiler } | undefined;

/** Build `before` (files by name) with a cache, then with `after` written over it, with the same cache and with none. */
export async function staleCheck(work: string, name: string, before: Record<string, string>, after: Record<string, string>, unitFile: string): Promise<void> {
  session ??= { checker: new ChapterTypeChecker(ROOT), compiler: new ModuleCompiler(ROOT, new Map(), null) };
  const dir = path.join(ROOT, "test-results", work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const once = async (files: Record<string, string>, cacheDir: string | null) => {
    for (const [f, t] of Object.entries(files)) writeFileSync(path.join(dir, f), t);
    const out = await build({ root: ROOT, chaptersDir: dir, resultsFile: path.join(dir, cacheDir ? "r.json" : "fresh.json"), cacheDir, session, onUnit: () => {} });
    const ch = out.results.chapters.find((c) => c.file.endsWith(unitFile))!;
    return JSON.stringify({ status: ch.status, diags: ch.diagnostics.map((d) => d.message), blocks: ch.blocks.map((b) => [b.id, b.status, b.failure?.message ?? null]) });
  };
  const first = await once(before, path.join(dir, "cache"));
  const cached = await once(after, path.join(dir, "cache"));
  const fresh = await once(after, null);
  expect(fresh).not.toBe(first);
  expect(cached).toBe(fresh);
}
