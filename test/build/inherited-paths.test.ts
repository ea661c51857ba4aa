// build/src/site.ts inheritedPaths: the temporary config a fixture or watch-mode build inherits
// mkdocs.yml through names the theme overrides and every hook of mkdocs.yml by absolute path.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect, test } from "vitest";
import { inheritedPaths } from "../../build/src/site.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

test("every hook and the custom_dir of mkdocs.yml, absolute and existing", () => {
  const yml = readFileSync(path.join(ROOT, "mkdocs.yml"), "utf8");
  const lines = inheritedPaths(yml, ROOT);
  const named = [...lines.join("\n").matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  const hooks = yml.split("\n").filter((l) => /^\s+- build\/mkdocs\//.test(l)).map((l) => path.join(ROOT, l.trim().slice(2)));
  expect(hooks.length).toBeGreaterThan(0);
  expect(named).toEqual([path.join(ROOT, "build/theme"), ...hooks]);
  for (const p of named) expect(existsSync(p), p).toBe(true);
});
