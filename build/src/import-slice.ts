// What of the chapters a unit imports can change what it records: the part of each imported
// chapter that goes into the unit's key (hash.ts `unitHash`), so that an edit to chapter 03's
// `mni` re-runs the blocks that reach `mni`, in chapter 03 and in the chapters that import it,
// and not every block of every chapter that imports anything from chapter 03.
//
// The argument is slice.ts's, carried across imports. A unit's worker loads its chapter's
// module, which loads every chapter it imports as a definitions-only module, and so on. Every
// statement of those modules runs at load; an *inert* one (slice.ts) evaluates nothing then, so
// it can change what the unit records only if code that runs names it. Code that runs is the
// unit's test block and every effectful statement of every loaded chapter, and what they name,
// transitively: a name a chapter declares reaches its declarations there; a name it imports from
// another chapter reaches the declaration that chapter exports under that name, and from there
// on by that chapter's own names. So the slice of an imported chapter is its effectful
// statements (its imports among them) and the statements declaring a name reached that way.
// Identifiers are matched by text, so a local that shadows a reached name, or a property that
// shares its name, only adds to the slice. An import statement is kept for its text (it loads the
// chapter) but names nothing by itself: which of its bindings are used is what the reach follows.
//
// One more root: the worker hardens (deep-freezes) every export of an imported chapter, reached
// or not, and with it whatever the export's value holds at load. An exported variable or class
// whose load-time part names one of its chapter's unexported bindings (`export const alias =
// shared`, a static field) can so freeze an object that reached code writes; such a statement is
// a root too. (lib/'s exports and the chapter's other exports are hardened anyway.)
//
// Whether a chapter loads at all, and which chapters it loads, also depend on code outside the
// slice (a string SES refuses, an import the transpiler keeps because a value uses it): hash.ts
// reads both from the module as the worker compiles it (load-check.ts), keys a chapter whole
// when it does not load cleanly, and keys the chapters each module loads.
//
// Refused, so that the unit keeps every imported chapter's whole definitions (the key before
// this file): a closure chapter that does not parse or has a test block that does not parse
// alone or that names `require`, `exports`, `module` or `arguments` (slice.ts), a closure chapter
// that does not load cleanly (hash.ts), a namespace or default import of a chapter, `export
// default`, a re-export (`export … from`), an `import =`, a dynamic `import()`, a name imported
// from a chapter that does not export it, and a chapter that imports the unit's own chapter back
// (its part of the key is slice.ts's, which does not follow names back into it). None occurs in
// the book today. The three reviews that found what this file and load-check.ts guard against
// are test/build/stale-keys*.test.ts.

import path from "node:path";
import { ts } from "ts-morph";
import type { Block, Extract } from "./extract.ts";
import { declaredNames, hasModifier, identifiersIn, statementsOf, type Stmt } from "./slice.ts";

/** A chapter's definitions as the reach walks them. */
interface ChapterNames {
  readonly stmts: readonly Stmt[];
  /** Top-level declarations by name, imports excluded. */
  readonly declared: ReadonlyMap<string, readonly Stmt[]>;
  /** Local binding → the chapter (absolute path) and the name it exports. */
  readonly imports: ReadonlyMap<string, { readonly from: string; readonly name: string }>;
  /** Exported name → local name. */
  readonly exports: ReadonlyMap<string, string>;
  readonly importStmts: ReadonlySet<Stmt>;
  /** Exports whose hardening can freeze a binding of the chapter that is not exported (the head of this file). */
  readonly hardenRoots: ReadonlySet<Stmt>;
}

/** Per parse (slice.ts keeps one per chapter text) and path. */
const namesMemo = new WeakMap<Stmt[], Map<string, ChapterNames | null>>();

/** `abs`: the chapter's absolute path, against which its imports resolve. null: refused (above). */
function namesOf(ex: Extract, abs: string): ChapterNames | null {
  const stmts = statementsOf(ex);
  if (!stmts) return null;
  let byPath = namesMemo.get(stmts);
  if (!byPath) namesMemo.set(stmts, (byPath = new Map()));
  if (!byPath.has(abs)) byPath.set(abs, readNames(stmts, abs));
  return byPath.get(abs)!;
}

function readNames(stmts: Stmt[], abs: string): ChapterNames | null {
  const declared = new Map<string, Stmt[]>();
  const imports = new Map<string, { from: string; name: string }>();
  const exports = new Map<string, string>();
  const importStmts = new Set<Stmt>();
  for (const s of stmts) {
    const st = s.node;
    if (hasDynamicImport(st)) return null;
    if (ts.isImportEqualsDeclaration(st) || ts.isExportAssignment(st)) return null;
    if (ts.isImportDeclaration(st)) {
      importStmts.add(s);
      const spec = (st.moduleSpecifier as ts.StringLiteral).text;
      if (!spec.endsWith(".md")) continue;
      const c = st.importClause;
      if (!c) continue; // `import "./x.md"`: loads it; its effectful statements are reached anyway
      if (c.name) return null;
      const nb = c.namedBindings;
      if (nb && !ts.isNamedImports(nb)) return null;
      const from = path.resolve(path.dirname(abs), spec);
      for (const e of nb?.elements ?? []) imports.set(e.name.text, { from, name: (e.propertyName ?? e.name).text });
      continue;
    }
    if (ts.isExportDeclaration(st)) {
      if (st.moduleSpecifier || !st.exportClause || !ts.isNamedExports(st.exportClause)) return null;
      for (const e of st.exportClause.elements) exports.set(e.name.text, (e.propertyName ?? e.name).text);
      continue;
    }
    if (hasModifier(st, ts.SyntaxKind.DefaultKeyword)) return null;
    for (const n of s.declares) declared.set(n, [...(declared.get(n) ?? []), s]);
    if (hasModifier(st, ts.SyntaxKind.ExportKeyword)) for (const n of declaredNames(st)) exports.set(n, n);
  }
  const exportedLocals = new Set(exports.values());
  const hardenRoots = new Set(stmts.filter((s) => hardensWhatItNames(s.node, (n) => declared.has(n) && !exportedLocals.has(n))));
  return { stmts, declared, imports, exports, importStmts, hardenRoots };
}

/**
 * An exported variable or class whose value at load names a binding `local(name)` holds: hardening
 * its export freezes what it names (the head of this file). Lib's exports and a chapter's other
 * exports are hardened anyway, so only the chapter's own unexported bindings count.
 */
function hardensWhatItNames(st: ts.Statement, local: (name: string) => boolean): boolean {
  if (!(ts.isVariableStatement(st) || ts.isClassDeclaration(st)) || !hasModifier(st, ts.SyntaxKind.ExportKeyword) || hasModifier(st, ts.SyntaxKind.DeclareKeyword)) return false;
  let names = false;
  const visit = (n: ts.Node): void => {
    if (names) return;
    // Not evaluated at load: function bodies, instance fields, types.
    if (ts.isFunctionLike(n) || ts.isTypeNode(n) || ts.isHeritageClause(n)) return;
    if (ts.isPropertyDeclaration(n) && !hasModifier(n, ts.SyntaxKind.StaticKeyword)) {
      return;
    }
    if (ts.isIdentifier(n) && !isDeclarationOrKeyName(n) && local(n.text)) {
      names = true;
      return;
    }
    n.forEachChild(visit);
  };
  if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) if (d.initializer) visit(d.initializer);
  if (ts.isClassDeclaration(st)) for (const m of st.members) visit(m);
  return names;
}

/** An identifier that names no binding: a declaration's own name, a property name. */
function isDeclarationOrKeyName(n: ts.Identifier): boolean {
  const p = n.parent;
  return ((ts.isPropertyAccessExpression(p) || ts.isPropertyAssignment(p) || ts.isPropertyDeclaration(p) || ts.isMethodDeclaration(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p)) && p.name === n);
}

function hasDynamicImport(node: ts.Node): boolean {
  if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) return true;
  return node.forEachChild(hasDynamicImport) === true;
}

/**
 * Per chapter of `closure` other than the unit's own (`self`): the texts of its statements that
 * the unit's test block `block` can reach, in chapter order (the head of this file). null: keep
 * every imported chapter whole.
 */
export function importedSlices(self: string, block: Block, extracts: ReadonlyMap<string, Extract>, closure: readonly string[]): Map<string, string[]> | null {
  const chapters = new Map<string, ChapterNames>();
  for (const f of closure) {
    if (!f.endsWith(".md")) continue;
    const ex = extracts.get(f);
    const names = ex ? namesOf(ex, f) : null;
    if (!names) return null;
    chapters.set(f, names);
  }
  if (!chapters.has(self)) return null;
  for (const [f, c] of chapters) if (f !== self) for (const i of c.imports.values()) if (i.from === self) return null;

  const kept = new Map<string, Set<Stmt>>([...chapters.keys()].map((f) => [f, new Set<Stmt>()]));
  const todo: [string, Stmt][] = [];
  let refused = false;
  const reach = (f: string, s: Stmt) => {
    const k = kept.get(f)!;
    if (k.has(s)) return;
    k.add(s);
    todo.push([f, s]);
  };
  const name = (f: string, n: string) => {
    const c = chapters.get(f)!;
    for (const s of c.declared.get(n) ?? []) reach(f, s);
    const imp = c.imports.get(n);
    if (imp) exported(imp.from, imp.name);
  };
  const exported = (f: string, n: string) => {
    const c = chapters.get(f);
    const local = c?.exports.get(n);
    if (local === undefined) {
      refused = true;
      return;
    }
    name(f, local);
  };
  for (const [f, c] of chapters) for (const s of c.stmts) if (s.effectful || (f !== self && c.hardenRoots.has(s))) reach(f, s);
  const sf = ts.createSourceFile(`${block.id}.ts`, block.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  for (const n of identifiersIn(sf)) name(self, n);
  while (todo.length > 0 && !refused) {
    const [f, s] = todo.pop()!;
    if (chapters.get(f)!.importStmts.has(s)) continue;
    for (const n of s.mentions) name(f, n);
  }
  if (refused) return null;
  const out = new Map<string, string[]>();
  for (const [f, c] of chapters) if (f !== self) out.set(f, c.stmts.filter((s) => kept.get(f)!.has(s)).map((s) => s.text));
  return out;
}
