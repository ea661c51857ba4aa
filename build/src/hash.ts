// Content hashes for the result cache: a chapter is re-run only when it, anything it imports
// (transitively: lib/ files and earlier chapters) or the pipeline itself has changed.

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ts } from "ts-morph";
import type { Block, Extract } from "./extract.ts";
import { definitionContent, tangle, tangleContent, testContent } from "./tangle.ts";
import { definitionSlice } from "./slice.ts";
import { importedSlices } from "./import-slice.ts";
import { chapterLoad, type ChapterLoad } from "./load-check.ts";
import { runtimeSpecifier } from "./sandbox/modules.ts";

function sha(parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

/**
 * What makes a chapter's result, besides its own closure: the build stage that produces results
 * (pipeline.ts), the worker that runs chapters and the runtime they import. Their import closure
 * is hashed, so a file they reach is covered without being listed here; rendering code (render.ts,
 * swimlane.ts, …) is reached only from cli.ts and can change without re-running the book.
 */
export const RESULT_ENTRIES = ["build/src/pipeline.ts", "build/src/sandbox/worker.ts", "build/runtime/chapter.ts"];

/**
 * Hash of everything besides the chapter's closure that can change its records: the closure of
 * RESULT_ENTRIES, the pinned packages that transpile and confine chapters (package-lock.json) and
 * the Node that runs them.
 */
export function toolHash(root: string, cache = new SourceCache(new Map())): string {
  const seen = new Set<string>();
  const stack = RESULT_ENTRIES.map((f) => path.join(root, f));
  while (stack.length > 0) {
    const f = stack.pop()!;
    if (seen.has(f) || cache.text(f) === null) continue;
    seen.add(f);
    stack.push(...cache.importsOf(f, new Map()));
  }
  const files = [...seen].sort();
  return sha([process.version, readFileSync(path.join(root, "package-lock.json"), "utf8"), ...files.map((f) => path.relative(root, f) + "\n" + cache.text(f))]);
}

/**
 * Files read for hashing, each read and scanned for imports once per build: every chapter's
 * closure shares most of lib/, so without this a build re-reads and re-parses it per chapter.
 */
export class SourceCache {
  private readonly texts = new Map<string, string | null>();
  private readonly imports = new Map<string, string[]>();
  /** `srcByFile`: chapters already read by the build; `transpileDir`: where the build's compiler
   *  keeps transpiled modules (load-check.ts transpiles chapters as it does). */
  constructor(private readonly srcByFile: Map<string, string>, private readonly transpileDir: string | null = null) {}

  /** Whether a file other than a chapter read here (a lib/ file of some chapter's closure) has
   *  another text on disk now. */
  changedOnDisk(): boolean {
    for (const [abs, t] of this.texts) {
      let now: string | null;
      try { now = readFileSync(abs, "utf8"); } catch { now = null; }
      if (now !== t) return true;
    }
    return false;
  }

  /** A chapter's module as a worker loads it (load-check.ts), once per build and mode. */
  load(root: string, abs: string, ex: Extract, mode: "defs" | "run"): ChapterLoad {
    const key = `${mode}\0${abs}`;
    let l = this.loads.get(key);
    if (!l) this.loads.set(key, (l = chapterLoad(root, abs, ex, mode, this.transpileDir)));
    return l;
  }
  private readonly loads = new Map<string, ChapterLoad>();

  text(abs: string): string | null {
    let t = this.srcByFile.get(abs) ?? this.texts.get(abs);
    if (t === undefined) {
      try { t = readFileSync(abs, "utf8"); } catch { t = null; }
      this.texts.set(abs, t);
    }
    return t;
  }

  /**
   * sha256 of a file's text ("<missing>" when it cannot be read), once per build: a key holds
   * each file of its closure by this digest, not by its text, since every unit's closure shares
   * most of lib/ (hashing the texts themselves was 17% of hashing the book's 313 units).
   */
  digest(abs: string): string {
    let d = this.digests.get(abs);
    if (d === undefined) this.digests.set(abs, (d = sha([this.text(abs) ?? "<missing>"])));
    return d;
  }
  private readonly digests = new Map<string, string>();

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

/**
 * The chapters that declare globals (`declare global`, `declare module`), with their code. The
 * type checker puts every chapter in one program, so such a declaration types chapters that do
 * not import its chapter: each chapter's key (chapterHash, through `tools`) holds them all.
 * lib/ has none (test/build/module-state.test.ts).
 */
export function globalDeclarations(extracts: ReadonlyMap<string, Extract>): string {
  const out: string[] = [];
  for (const ex of extracts.values()) {
    const code = ex.blocks.map((b) => b.code).join("\n");
    if (GLOBAL_DECLARATION.test(code)) out.push(ex.file, code);
  }
  return out.length === 0 ? "" : "\0globals\0" + sha(out);
}
const GLOBAL_DECLARATION = /\bdeclare\s+(global|module)\b/;

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
    parts.push(path.relative(root, f), cache.digest(f));
  }
  return sha(parts);
}

/**
 * A unit's own module as its key sees it: the definitions its test block can reach (slice.ts)
 * and the block, or, when the slice cannot be taken or the chapter's definitions do not load
 * cleanly (load-check.ts), the whole module's content.
 */
function unitContent(ex: Extract, b: Block | undefined, spec: string, load: ChapterLoad, slice: readonly string[] | null): string {
  // No slice: every block, test blocks included (one that does not parse alone can reach the rest).
  if (!slice || !b) return tangleContent(ex, "run", spec);
  // Which chapters the module loads depends on every block (load-check.ts).
  const uses = `chapters loaded: ${load.chapters.join(",")}`;
  return [spec, uses, ...slice.map(definitionContent), testContent(b)].join("\0");
}

/**
 * The key of one work unit's records (run.ts, `Unit`): what the unit's worker is given, and
 * nothing else. The unit's module content (the definitions its test block can reach, slice.ts,
 * and the block, in order; tangle.ts `tangleContent` when no slice), of each chapter it imports
 * the statements it can reach there (import-slice.ts; the chapter's whole definitions when that
 * slice is refused), the text of each lib/ file it reaches, and `tools`. A unit is
 * evaluated afresh (sandbox/worker.ts), so no other block
 * of its chapter, and no unit that ran before it, can change what it records (the worker runs the
 * whole chapter's module but only the unit's block, and a unit whose whole chapter does not load
 * runs again on its own text: run.ts runOwnText). One way remains, and it needs the chapter's
 * author on both sides: an imported chapter that only another block uses is loaded for every unit,
 * so load-time code of that chapter that reached the unit (through lib/'s ambient slots, reset as
 * each unit's runtime loads) would. An edit to a test
 * block re-runs that block, an edit to a definition re-runs the blocks that reach it (above or
 * below them alike, in its chapter or in a chapter that imports it; every block that loads it, if
 * it is effectful: slice.ts), and an edit to prose re-runs nothing, even one that moves the
 * blocks' lines.
 *
 * `layout` says where the code sits: the whole chapter's module at its lines (a message may name
 * a line of it that another block's edit moves) and each imported chapter's definitions. A cached run made
 * at another layout is used only when nothing in it names a line but its tests' fence lines,
 * which the build then takes from the chapter as it is (pipeline.ts `relocated`).
 */
export function unitHash(root: string, ex: Extract, block: string | null, extracts: Map<string, Extract>, tools: string, cache: SourceCache, unconfined = false): { key: string; layout: string } {
  const self = path.join(root, ex.file);
  const b = block === null ? undefined : ex.blocks.find((x) => x.flags.test && x.id === block);
  // The unit's own chapter: sliced when its definitions load cleanly (a test block that does not
  // makes the whole module fail, and then the worker runs each unit on its own text: run.ts
  // runOwnText); the chapters it loads are those of the whole module, every block's uses.
  const own = { loads: cache.load(root, self, ex, "defs").loads, chapters: cache.load(root, self, ex, "run").chapters };
  const slice = own.loads ? definitionSlice(ex, b) : null;
  const content = [tools, "unit", unconfined ? "unconfined" : "confined", ex.file, block ?? "", unitContent(ex, b, runtimeSpecifier(root, self), own, slice)];
  const layout = [moduleDigest(ex, "run", "layout", runtimeSpecifier(root, self))];
  const closure = closureFiles(root, ex, extracts, cache);
  // Imported chapters by what the unit can reach of them (import-slice.ts), when its own chapter
  // is sliced too and every chapter it imports loads cleanly (load-check.ts); otherwise whole.
  const loads = (f: string) => { const x = extracts.get(f); return x !== undefined && cache.load(root, f, x, "defs").loads; };
  const sliceable = b !== undefined && slice !== null && closure.every((f) => f === self || !f.endsWith(".md") || loads(f));
  const slices = sliceable ? importedSlices(self, b, extracts, closure) : null;
  for (const f of closure) {
    if (f === self) continue;
    const imported = f.endsWith(".md") ? extracts.get(f) : undefined;
    const sliced = imported && slices?.get(f);
    content.push(path.relative(root, f), imported ? importedContent(imported, runtimeSpecifier(root, f), sliced ? { slice: sliced, load: cache.load(root, f, imported, "defs") } : undefined) : cache.digest(f));
    if (imported) layout.push(path.relative(root, f), moduleDigest(imported, "defs", "layout", runtimeSpecifier(root, f)));
  }
  return { key: sha(content), layout: sha(layout) };
}

/** An imported chapter as a unit's key sees it: the statements the unit can reach, or every definition. */
function importedContent(ex: Extract, spec: string, sliced: { slice: readonly string[]; load: ChapterLoad } | undefined): string {
  if (!sliced) return moduleDigest(ex, "defs", "content", spec);
  return [spec, "sliced", `chapters loaded: ${sliced.load.chapters.join(",")}`, ...sliced.slice.map(definitionContent)].join("\0");
}

/** sha256 of a chapter's module (its definitions only, or whole), as content or at its lines,
 *  once per chapter and build (every unit of it, or that imports it, asks). */
function moduleDigest(ex: Extract, mode: "defs" | "run", what: "content" | "layout", spec: string): string {
  const key = `${mode}\0${what}\0${spec}`;
  let m = moduleDigests.get(ex);
  if (!m) moduleDigests.set(ex, (m = new Map()));
  let d = m.get(key);
  if (d === undefined) m.set(key, (d = sha([what === "content" ? tangleContent(ex, mode, spec) : tangle(ex, mode, spec)])));
  return d;
}
const moduleDigests = new WeakMap<Extract, Map<string, string>>();
