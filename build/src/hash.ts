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

/**
 * Hash of everything besides the chapter's closure that can change its records: the pipeline's
 * own source (including the sandbox), the pinned packages that transpile and confine chapters
 * (package-lock.json) and the Node that runs them.
 */
export function toolHash(root: string): string {
  const files = [...filesUnder(path.join(root, "build/src")), ...filesUnder(path.join(root, "build/runtime")), path.join(root, "package-lock.json")];
  return sha([process.version, ...files.map((f) => path.relative(root, f) + "\n" + readFileSync(f, "utf8"))]);
}

/**
 * Files read for hashing, each read and scanned for imports once per build: every chapter's
 * closure shares most of lib/, so without this a build re-reads and re-parses it per chapter.
 */
export class SourceCache {
  private readonly texts = new Map<string, string | null>();
  private readonly imports = new Map<string, string[]>();
  /** `srcByFile`: chapters already read by the build. */
  constructor(private readonly srcByFile: Map<string, string>) {}

  text(abs: string): string | null {
    let t = this.srcByFile.get(abs) ?? this.texts.get(abs);
    if (t === undefined) {
      try { t = readFileSync(abs, "utf8"); } catch { t = null; }
      this.texts.set(abs, t);
    }
    return t;
  }

  /** Absolute paths of the relative imports of a file; a chapter's come from its blocks only. */
  importsOf(abs: string, extracts: Map<string, Extract>): string[] {
    let out = this.imports.get(abs);
    if (out) return out;
    const code = abs.endsWith(".md") ? (extracts.get(abs)?.blocks.map((b) => b.code).join("\n") ?? "") : this.text(abs);
    out = code === null ? [] : ts.preProcessFile(code, true, true).importedFiles
      .filter((f) => f.fileName.startsWith("."))
      .map((f) => path.resolve(path.dirname(abs), f.fileName));
    this.imports.set(abs, out);
    return out;
  }
}

/** The import closure of a chapter: its own file, then every file it reaches through relative imports. */
export function closureFiles(root: string, ex: Extract, extracts: Map<string, Extract>, cache: SourceCache): string[] {
  const seen = new Set<string>();
  const stack = [path.join(root, ex.file)];
  while (stack.length > 0) {
    const abs = stack.pop()!;
    if (seen.has(abs)) continue;
    seen.add(abs);
    if (!abs.endsWith(".md") && cache.text(abs) === null) continue;
    stack.push(...cache.importsOf(abs, extracts));
  }
  return [...seen].sort();
}

export function chapterHash(root: string, ex: Extract, src: string, extracts: Map<string, Extract>, tools: string, cache: SourceCache): string {
  const parts = [tools, ex.file, src];
  for (const f of closureFiles(root, ex, extracts, cache)) {
    if (f === path.join(root, ex.file)) continue;
    parts.push(path.relative(root, f), cache.text(f) ?? "<missing>");
  }
  return sha(parts);
}
