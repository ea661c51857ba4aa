// The modules one chapter runs, compiled once in the build's main thread and shipped to the
// chapter's worker (sandbox/worker.ts) as plain strings.
//
// Each module is TypeScript (a tangled chapter, a lib/ file, the book runtime) transpiled to a
// CommonJS function body with its source map. The worker links them itself inside a SES
// Compartment, so nothing here can import a Node module: a specifier that is not a relative path
// to lib/, to an earlier chapter or to the runtime is a load error, whatever the import policy
// let through.

import { readFileSync } from "node:fs";
import path from "node:path";
import ts from "typescript";
import type { Extract } from "../extract.ts";
import { tangle, type TangleMode } from "../tangle.ts";

import { AMBIENT } from "./ambient.ts";
import { RUNTIME_FILE } from "./protocol.ts";
import { transpile, type Transpiled } from "./transpile-cache.ts";

export interface CompiledModule {
  /** Module id: an absolute path, plus `?defs` for a chapter another chapter imports. */
  readonly id: string;
  /** The original file (absolute): the Markdown chapter or the .ts file. */
  readonly file: string;
  /** CommonJS function body. */
  readonly code: string;
  /** Its source map (JSON), mapping back to `file` (a chapter's tangled lines are its own lines). */
  readonly map: string;
  /** Specifier as written → module id. */
  readonly deps: Readonly<Record<string, string>>;
  /** Harden its exports once loaded: lib/ and imported chapters are shared by whatever imports them. */
  readonly harden: boolean;
  /**
   * A module of lib/: linked once per chapter worker and shared by the chapter's units. Its code
   * ends with `return [...]` of its top-level bindings that are not exports (nor ambient slots,
   * ambient.ts), for the worker to harden with the exports: a unit can then change nothing a
   * later unit reaches through lib/ (test/build/module-state.test.ts proves lib/ itself does not).
   */
  readonly shared: boolean;
}

export interface ChapterBundle {
  readonly entry: string;
  readonly modules: Readonly<Record<string, CompiledModule>>;
  /** Every entry is the whole chapter's module (bundleOf): a unit that fails to load is run
   *  again on its own text (run.ts), since another block can make the whole chapter fail. */
  readonly whole?: boolean;
}

const COMPILER: ts.CompilerOptions = {
  module: ts.ModuleKind.CommonJS,
  target: ts.ScriptTarget.ES2022,
  sourceMap: true,
  // SES refuses source text that looks like an HTML comment or an `import(` expression, even in
  // a comment; comments carry no behaviour, so they go.
  removeComments: true,
  verbatimModuleSyntax: false,
  esModuleInterop: false,
  useDefineForClassFields: true,
};

export class ModuleError extends Error {
  override name = "ModuleError";
  constructor(message: string, readonly file: string, readonly line: number) {
    super(message);
  }
}

/** Compiles and caches modules for every chapter of one build (lib/ is compiled once). */
export class ModuleCompiler {
  private readonly cache = new Map<string, { source: string; module: CompiledModule }>();
  /** Modules (by id) whose source has a syntax error. */
  private readonly syntaxErrors = new Set<string>();

  /** `transpileCache`: a folder for transpile-cache.ts, or null to transpile everything afresh. */
  constructor(private readonly root: string, private extracts: ReadonlyMap<string, Extract>, private readonly transpileCache: string | null = null) {}

  bundle(chapterAbs: string): ChapterBundle {
    return this.bundleOf(chapterAbs, [chapterAbs]);
  }

  /** The modules of a chapter's work units (`unitModuleId`): one bundle, one entry per unit. */
  bundleOf(chapterAbs: string, entries: readonly string[], whole = true): ChapterBundle {
    const modules: Record<string, CompiledModule> = {};
    // Every unit of a chapter runs one module: the chapter with all its blocks (tangle's "run"),
    // of whose test blocks the worker runs only the unit's own (sandbox/worker.ts). Compiling each
    // unit's own text instead transpiled the whole chapter once per test block: about 10 s of
    // the book's cold build on the main thread, while the workers waited for their bundles. The
    // other blocks are only registered, never run, so a unit still does what its own text says,
    // as long as the whole chapter loads: another block can make it fail to (a string SES
    // refuses, an import statement inside a block, an import only it uses of a chapter that
    // throws), and then the unit is run again on its own text (run.ts); its cache key is its own
    // text. A chapter that does not parse is compiled unit by unit from the start.
    const isUnit = (e: string) => e === `${chapterAbs}?load` || e.startsWith(`${chapterAbs}?unit=`);
    const all = whole && chapterAbs.endsWith(".md") && entries.length > 0 && entries.every(isUnit) ? this.wholeChapter(chapterAbs) : null;
    for (const e of all ? entries : []) modules[e] = all!;
    const todo = all ? [all.id] : [...entries];
    while (todo.length > 0) {
      const id = todo.pop()!;
      if (modules[id]) continue;
      const m = this.compile(id);
      modules[id] = m;
      for (const d of Object.values(m.deps)) if (!modules[d]) todo.push(d);
    }
    return all ? { entry: chapterAbs, modules, whole: true } : { entry: chapterAbs, modules };
  }

  /** The chapter as one module of all its blocks, or null if it does not parse. */
  private wholeChapter(chapterAbs: string): CompiledModule | null {
    const m = this.compile(`${chapterAbs}?units`);
    return this.syntaxErrors.has(m.id) ? null : m;
  }

  /** Watch mode keeps one compiler across builds: chapters are read from these extracts. */
  setExtracts(extracts: ReadonlyMap<string, Extract>): void {
    this.extracts = extracts;
  }

  private compile(id: string): CompiledModule {
    const q = id.indexOf("?");
    const [file, query] = q < 0 ? [id, undefined] : [id.slice(0, q), id.slice(q + 1)];
    let source: string;
    let harden = true;
    if (file.endsWith(".md")) {
      const ex = this.extracts.get(file);
      if (!ex) throw new ModuleError(`${path.relative(this.root, file)} is not a chapter of this book`, file, 1);
      const mode: TangleMode = query === "defs" ? "defs" : query === "load" ? { unit: null } : query?.startsWith("unit=") ? { unit: decodeURIComponent(query.slice(5)) } : "run";
      harden = mode === "defs";
      source = tangle(ex, mode, runtimeSpecifier(this.root, file));
    } else {
      source = readFileSync(file, "utf8");
    }
    // Keyed by the source too: watch mode's compiler outlives an edit.
    const hit = this.cache.get(id);
    if (hit && hit.source === source) return hit.module;
    const { out, code: emitted } = emit(source, file + (file.endsWith(".md") ? ".ts" : ""), query === "units", this.transpileCache);
    if (out.syntaxError) this.syntaxErrors.add(id);
    else this.syntaxErrors.delete(id);
    const deps: Record<string, string> = {};
    for (const imp of ts.preProcessFile(source, true, true).importedFiles) {
      deps[imp.fileName] = this.resolve(file, imp.fileName, source.slice(0, imp.pos).split("\n").length);
    }
    // The runtime is the chapter's own: its `current` block must not be shared with an importer.
    if (path.relative(this.root, file) === RUNTIME_FILE) harden = false;
    const shared = !file.endsWith(".md") && path.relative(this.root, file) !== RUNTIME_FILE;
    let code = emitted;
    if (shared) code += `return [${localBindings(source, path.relative(this.root, file).split(path.sep).join("/")).join(", ")}];\n`;
    const m: CompiledModule = { id, file, code, map: out.sourceMapText, deps, harden, shared };
    this.cache.set(id, { source, module: m });
    return m;
  }

  private resolve(from: string, spec: string, line: number): string {
    if (!spec.startsWith(".")) throw new ModuleError(`"${spec}" cannot be loaded: a chapter reaches only lib/, earlier chapters and the book runtime`, from, line);
    const target = path.resolve(path.dirname(from), spec);
    if (target.endsWith(".md")) return target + "?defs";
    const inside = (dir: string) => target.startsWith(path.join(this.root, dir) + path.sep);
    if (!(inside("lib") || path.relative(this.root, target) === RUNTIME_FILE)) {
      throw new ModuleError(`"${spec}" cannot be loaded: it is outside lib/`, from, line);
    }
    return target;
  }
}

/**
 * A module's code as the worker evaluates it (CommonJS, no comments, SES-safe), and TypeScript's
 * output (its source map, whether it found a syntax error). The one place that makes it: the
 * build's compiler and the unit keys' load check (load-check.ts) must see the same code.
 */
export function emit(source: string, fileName: string, diagnose: boolean, dir: string | null): { out: Transpiled; code: string } {
  const out = transpile(source, fileName, COMPILER, diagnose, dir);
  return { out, code: sesSafe(out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, "\n")) };
}

/**
 * SES refuses source text containing `<!--`, `-->` or `import(` anywhere, string literals
 * included (lockdep's splats print `A --> B`). After the CommonJS transform and with comments
 * removed, these sequences can only stand inside string, template or regex literals, where
 * `\x3c`, `\x3e` and `\x28` denote the same characters. Columns after them shift by two or
 * three on that line; lines do not.
 */
function sesSafe(code: string): string {
  return code.replaceAll("<!--", "\\x3c!--").replaceAll("-->", "--\\x3e").replace(/\bimport\(/g, "import\\x28");
}

/** The names a module binds at its top level and does not export, but for its ambient slots. */
function localBindings(source: string, rel: string): string[] {
  const sf = ts.createSourceFile(rel, source, ts.ScriptTarget.ES2022);
  const ambient = new Set(AMBIENT.filter((s) => s.file === rel).map((s) => s.name));
  const names: string[] = [];
  const mods = (n: ts.Node) => (ts.canHaveModifiers(n) ? (ts.getModifiers(n) ?? []) : []);
  const skip = (n: ts.Node) => mods(n).some((m) => m.kind === ts.SyntaxKind.ExportKeyword || m.kind === ts.SyntaxKind.DeclareKeyword);
  const bind = (b: ts.BindingName) => {
    if (ts.isIdentifier(b)) names.push(b.text);
    else for (const e of b.elements) if (!ts.isOmittedExpression(e)) bind(e.name);
  };
  for (const s of sf.statements) {
    if (skip(s)) continue;
    if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) bind(d.name);
    else if ((ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s)) && s.name) names.push(s.name.text);
  }
  return names.filter((n) => !ambient.has(n));
}

export function runtimeSpecifier(root: string, chapterFile: string): string {
  const rel = path.relative(path.dirname(chapterFile), path.join(root, RUNTIME_FILE));
  return rel.split(path.sep).join("/").replace(/^(?!\.)/, "./");
}

/**
 * The module id of one work unit of a chapter: its definitions and the test block `block` (none
 * for null: the unit that only loads a chapter without test blocks).
 */
export function unitModuleId(chapterAbs: string, block: string | null): string {
  return block === null ? `${chapterAbs}?load` : `${chapterAbs}?unit=${encodeURIComponent(block)}`;
}
