// render.ts renders beside docs/generated and syncs: an unchanged page keeps its modification
// time, so watch mode's `mkdocs build --dirty` rebuilds only the pages that changed.
import { mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "vitest";
import { syncDir } from "../../build/src/sync-dir.ts";

test("changed and new files are written, unchanged ones keep their time, missing ones go", async () => {
  const root = mkdtempSync(path.join(tmpdir(), "sync-"));
  const [from, to] = [path.join(root, "from"), path.join(root, "to")];
  for (const d of [from, to]) mkdirSync(path.join(d, "sub"), { recursive: true });
  writeFileSync(path.join(to, "same.md"), "same");
  writeFileSync(path.join(to, "sub/changed.md"), "old");
  writeFileSync(path.join(to, "gone.md"), "gone");
  const past = new Date(2000, 0, 1);
  for (const f of ["same.md", "sub/changed.md"]) utimesSync(path.join(to, f), past, past);
  writeFileSync(path.join(from, "same.md"), "same");
  writeFileSync(path.join(from, "sub/changed.md"), "new");
  writeFileSync(path.join(from, "sub/added.md"), "added");
  await syncDir(from, to);
  expect(statSync(path.join(to, "same.md")).mtime.getTime()).toBe(past.getTime());
  expect(statSync(path.join(to, "sub/changed.md")).mtime.getTime()).toBeGreaterThan(past.getTime());
  expect(readFileSync(path.join(to, "sub/changed.md"), "utf8")).toBe("new");
  expect(readFileSync(path.join(to, "sub/added.md"), "utf8")).toBe("added");
  expect(existsSync(path.join(to, "gone.md"))).toBe(false);
});
