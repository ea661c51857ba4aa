// What the speed lints read (per-execution-generators.test.ts, pretenured-closures.test.ts): every
// chapter's code blocks and the TypeScript modules under some folders, each with the file and the
// line its findings are reported at, and one report line per finding.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { extract } from "../../build/src/extract.ts";

const root = path.resolve(import.meta.dirname, "../..");

export interface LintSource {
  /** Repository-relative path, as a report names it. */
  readonly file: string;
  readonly code: string;
  /** The file's line of the code's first line. */
  readonly firstLine: number;
  /** The name to parse the code under (modules only; a chapter block is parsed under the lint's default). */
  readonly fileName?: string;
}

/** Every code block of every chapter, in file and block order. */
export function chapterBlocks(): LintSource[] {
  return readdirSync(path.join(root, "chapters")).filter((f) => f.endsWith(".md")).sort().flatMap((name) => {
    const file = `chapters/${name}`;
    return extract(file, readFileSync(path.join(root, file), "utf8")).blocks.map((b) => ({ file, code: b.code, firstLine: b.codeLine }));
  });
}

/** Every .ts module under `dirs` but those in `except`, sorted by path. */
export function tsModules(dirs: readonly string[], except: readonly string[] = []): LintSource[] {
  return dirs.flatMap((dir) => readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith(".ts"))
    .map((d) => path.relative(root, path.join(d.parentPath, d.name)).split(path.sep).join("/")))
    .filter((f) => !except.includes(f))
    .sort()
    .map((file) => ({ file, code: readFileSync(path.join(root, file), "utf8"), firstLine: 1, fileName: file }));
}

/** One line per finding, `file:line: what`, for the sources given; empty when there is none. */
export function report<T extends { readonly line: number }>(sources: readonly LintSource[], find: (code: string, fileName?: string) => T[], what: (o: T) => string): string {
  return sources.flatMap((s) => find(s.code, s.fileName).map((o) => `${s.file}:${s.firstLine + o.line - 1}: ${what(o)}`)).join("\n");
}
