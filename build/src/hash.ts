// Content hashes for the result cache: a chapter is re-run only when it, anything it imports
// (transitively: lib/ files and earlier chapters) or the pipeline itself has changed.

import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ts } from "ts-morph";
import type { Extract } from "./extract.ts";

function sha(parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

function filesUnder(dir: string): string[] {
  let out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = path.join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(filesUnder(p));
    else out.push(p);
  }
  return out;
}

/** Hash of the pipeline's own source: a change to how chapters are built invalidates them all. */
export function toolHash(root: string): string {
  const files = [...filesUnder(path.join(root, "build/src")), ...filesUnder(path.join(root, "build/runtime"))];
  return sha(files.map((f) => path.relative(root, f) + "\n" + readFileSync(f, "utf8")));
}

/**
 * The import closure of a chapter: its own text, then every file it reaches through relative
 * imports. Chapters are looked up in `extracts` (already read); other files are read from disk.
 */
export function closureFiles(root: string, ex: Extract, extracts: Map<string, Extract>): string[] {
  const seen = new Set<string>();
  const stack = [path.join(root, ex.file)];
  while (stack.length > 0) {
    const abs = stack.pop()!;
    if (seen.has(abs)) continue;
    seen.add(abs);
    let text: string;
    if (abs.endsWith(".md")) {
      const other = extracts.get(abs);
      text = other ? other.blocks.map((b) => b.code).join("\n") : "";
    } else {
      try { text = readFileSync(abs, "utf8"); } catch { continue; }
    }
    for (const f of ts.preProcessFile(text, true, true).importedFiles) {
      if (!f.fileName.startsWith(".")) continue;
      stack.push(path.resolve(path.dirname(abs), f.fileName));
    }
  }
  return [...seen].sort();
}

export function chapterHash(root: string, ex: Extract, src: string, extracts: Map<string, Extract>, tools: string, srcByFile: Map<string, string>): string {
  const parts = [tools, ex.file, src];
  for (const f of closureFiles(root, ex, extracts)) {
    if (f === path.join(root, ex.file)) continue;
    const text = srcByFile.get(f) ?? (() => { try { return readFileSync(f, "utf8"); } catch { return "<missing>"; } })();
    parts.push(path.relative(root, f), text);
  }
  return sha(parts);
}
