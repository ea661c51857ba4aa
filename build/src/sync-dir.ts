// Makes a folder equal to another while touching only the files that differ, so that a file whose
// content did not change keeps its modification time: watch mode's `mkdocs build --dirty`
// (site.ts) then rebuilds only the pages whose Markdown changed.

import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";

async function files(dir: string, base = dir): Promise<string[]> {
  let entries;
  try { entries = await readdir(dir, { withFileTypes: true }); } catch { return []; }
  const out: string[] = [];
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p, base)));
    else out.push(path.relative(base, p));
  }
  return out;
}

/** `to` becomes a copy of `from`: changed and new files written, missing ones deleted. */
export async function syncDir(from: string, to: string): Promise<void> {
  const wanted = await files(from);
  const keep = new Set(wanted);
  for (const f of wanted) {
    const next = await readFile(path.join(from, f));
    const prev = await readFile(path.join(to, f)).catch(() => null);
    if (prev && prev.equals(next)) continue;
    await mkdir(path.dirname(path.join(to, f)), { recursive: true });
    await writeFile(path.join(to, f), next);
  }
  for (const f of await files(to)) if (!keep.has(f)) await rm(path.join(to, f), { force: true });
}
