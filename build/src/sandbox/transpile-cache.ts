// TypeScript's transpileModule output, kept on disk between builds. Transpiling lib/ takes about
// 4 s, and `npm run chapter` paid it before every run of one claim. The output is a function of
// the source, the file name, the compiler options and TypeScript's version, so those are the key
// (SHA-256); nothing else can change it. A damaged entry is transpiled again; entries are written
// to a temporary name and renamed, so a reader never sees half of one.

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";

/** The entries' format, and how this file derives them from TypeScript's output (syntaxError):
 *  part of the key, so a change to either never reads an older entry. */
const FORMAT = 1;

export interface Transpiled {
  readonly outputText: string;
  readonly sourceMapText: string;
  /** The source has a syntax error (reported only when asked for). */
  readonly syntaxError: boolean;
}

/** Where a build whose results are cached in `cacheDir` keeps transpiled modules (none without a cache). */
export function transpileDir(cacheDir: string | null): string | null {
  return cacheDir === null ? null : path.join(cacheDir, "transpile");
}

/** Without a directory, the last outputs in this process, by key: the unit keys' load check
 *  (load-check.ts) and the build's compiler transpile the same chapters. With one, the directory
 *  is what they share. */
const recent = new Map<string, Transpiled>();
const RECENT_MAX = 256; // lib/ (about 100 modules) and every chapter's modes

export function transpile(source: string, fileName: string, options: ts.CompilerOptions, diagnose: boolean, dir: string | null): Transpiled {
  const key = createHash("sha256").update(JSON.stringify([FORMAT, ts.version, options, fileName, diagnose, source])).digest("hex");
  if (dir !== null) return transpileOnce(key, source, fileName, options, diagnose, dir);
  const seen = recent.get(key);
  if (seen) return seen;
  const out = transpileOnce(key, source, fileName, options, diagnose, dir);
  if (recent.size >= RECENT_MAX) recent.delete(recent.keys().next().value!);
  recent.set(key, out);
  return out;
}

function transpileOnce(key: string, source: string, fileName: string, options: ts.CompilerOptions, diagnose: boolean, dir: string | null): Transpiled {
  const run = (): Transpiled => {
    const out = ts.transpileModule(source, { compilerOptions: options, fileName, reportDiagnostics: diagnose });
    // Only the source's own diagnostics: the options' deprecation notices have no file.
    return { outputText: out.outputText, sourceMapText: out.sourceMapText ?? "", syntaxError: !!out.diagnostics?.some((d) => d.file) };
  };
  if (dir === null) return run();
  const file = path.join(dir, `${key}.json`);
  try {
    const hit = JSON.parse(readFileSync(file, "utf8")) as Transpiled;
    if (typeof hit.outputText === "string" && typeof hit.sourceMapText === "string" && typeof hit.syntaxError === "boolean") return hit;
  } catch {
    // absent or damaged: transpile it again
  }
  const out = run();
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(tmp, JSON.stringify(out));
    renameSync(tmp, file);
  } catch {
    // a read-only checkout or a full disk: still correct, only slower
    rmSync(tmp, { force: true });
  }
  return out;
}
