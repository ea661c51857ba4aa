// What of a chapter's definitions one test block can reach: the part of the chapter that goes
// into the block's unit key (hash.ts `unitHash`), so that an edit to a definition re-runs only
// the blocks that use it, not every block of the chapter.
//
// The worker still runs every definition (run.ts): the slice decides only which edits can change
// what a unit records. That is sound when every statement left out is *inert*: declaring it
// evaluates nothing at load time that could throw or reach lib/, and no code that runs names it.
//   - inert: function declarations; interfaces and type aliases; `declare` statements; classes
//     with no `extends`, decorator, computed name or static initializer; `const`/`let` whose
//     initializers call nothing and cannot throw: literals, functions and arrows, a read of a
//     binding that is already initialized there (an import, a function declaration, or a
//     top-level `const`/`let`/`class` declared before it in the chapter: no TDZ error), one
//     property of an imported binding (`COMMITS.x`: lib/'s tables have no getters; a chapter's
//     own object might, and a getter runs code), and object and array literals of those, with no
//     spread or computed key. Not `using` declarations (they dispose at the end of the module).
//   - everything else is *effectful* and always in the slice: imports, expression statements,
//     exports, enums, namespaces, a `const` whose initializer calls or reads anything.
// The slice is the effectful statements plus every statement that declares a name reachable from
// the test block or from an effectful statement, through the identifiers their text mentions
// (any identifier with that name, so a local that shadows a top-level name only adds to it).
// The definitions are parsed as the module holds them, one text, so that statement boundaries
// are the module's. A chapter whose definitions do not parse, or with a test block that does not
// parse alone (it could close its wrapper and run at load), and a unit with no test block, take
// every block (hash.ts), and so does a chapter that names `require`, `exports`, `module` or
// `arguments` anywhere: through the module function's parameters they reach bindings by a string.
// Imports are elided by the transpiler when no value uses them, so which chapters a unit loads
// depends on every block: hash.ts keys that too, from the emitted code (load-check.ts), which
// also tells whether the module loads at all (an unreached string SES refuses).

import { ts } from "ts-morph";
import type { Block, Extract } from "./extract.ts";
import { tangle } from "./tangle.ts";
import { FAST_GLOBALS } from "./sandbox/protocol.ts";

export interface Stmt {
  /** The statement as parsed (import-slice.ts reads its imports and exports). */
  node: ts.Statement;
  /** The statement's text, trivia before it excluded. */
  text: string;
  declares: string[];
  mentions: Set<string>;
  effectful: boolean;
}

/**
 * The top-level statements of a chapter's definitions, in chapter order; null when one does not
 * parse. Kept per chapter file with the text they were parsed from, so that watch mode, which
 * extracts every chapter again at each save, parses only the chapters whose code changed.
 */
const parsed = new Map<string, { readonly code: string; readonly stmts: Stmt[] | null }>();

export function statementsOf(ex: Extract): Stmt[] | null {
  const known = parsedByExtract.get(ex);
  if (known !== undefined) return known;
  const stmts = statementsOfText(ex);
  parsedByExtract.set(ex, stmts);
  return stmts;
}
/** Within one build, every unit asks again of the same Extract: no need to compare its text. */
const parsedByExtract = new WeakMap<Extract, Stmt[] | null>();

function statementsOfText(ex: Extract): Stmt[] | null {
  // The definitions as the module holds them, parsed as ONE text: a definition block that ends
  // without a semicolon continues into the next one (ASI), so blocks parsed apart could show
  // statement boundaries the module does not have.
  const defs = tangle(ex, "defs", "");
  const code = [defs, ...ex.blocks.filter((b) => b.flags.test).map((b) => b.code)].join("\0");
  const memo = parsed.get(ex.file);
  if (memo?.code === code) return memo.stmts;
  const stmts = parseStatements(ex, defs);
  parsed.set(ex.file, { code, stmts });
  return stmts;
}

function parseStatements(ex: Extract, defs: string): Stmt[] | null {
  const sf = ts.createSourceFile("defs.ts", defs, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  // A test block that does not parse alone could close its wrapper and run code at load.
  const tests = ex.blocks.filter((b) => b.flags.test).map((b) => ts.createSourceFile(`${b.id}.ts`, b.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS));
  if (parseErrors(sf) || tests.some(parseErrors)) return null;
  // Initialized before the module body runs: imports and function declarations with a body
  // (hoisted). Not a `declare`d name or an overload signature: nothing is bound at run time.
  // `imported`: of lib/ only, whose tables have no getters (inertExpression); a chapter's export
  // may have one, so a property of it is read like any other code.
  const imported = new Set<string>();
  const ready = new Set<string>(["undefined"]);
  for (const st of sf.statements) {
    if (!ts.isImportDeclaration(st) || st.importClause?.isTypeOnly) continue;
    const fromChapter = (st.moduleSpecifier as ts.StringLiteral).text.endsWith(".md");
    // `import { type X }`: the transpiler drops X, so X is no binding at run time.
    const nb = st.importClause?.namedBindings;
    const typeOnly = new Set(nb && ts.isNamedImports(nb) ? nb.elements.filter((e) => e.isTypeOnly).map((e) => e.name.text) : []);
    for (const n of declaredNames(st)) {
      if (typeOnly.has(n)) continue;
      ready.add(n);
      if (!fromChapter) imported.add(n);
    }
  }
  for (const st of sf.statements) if (ts.isFunctionDeclaration(st) && st.body && !hasModifier(st, ts.SyntaxKind.DeclareKeyword)) for (const n of declaredNames(st)) ready.add(n);
  const out: Stmt[] = [];
  // `ready` grows as the walk goes: a statement sees the names declared before it.
  const env: Env = { ready: (n) => ready.has(n), imported: (n) => imported.has(n) };
  for (const st of sf.statements) {
    // The runtime import the tangle adds (here with an empty specifier), alone at the start of
    // line 1: in every unit alike. A chapter's own `import ""` is a statement like any other.
    if (st === sf.statements[0] && st.pos === 0 && ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.moduleSpecifier.text === "") continue;
    const declares = declaredNames(st);
    // A hoisted declaration named like a global shadows it for code the transpiler adds and no
    // statement names (`Object.defineProperty(exports, "__esModule", …)`, helpers): effectful.
    const shadows = !hasModifier(st, ts.SyntaxKind.DeclareKeyword) && !ts.isInterfaceDeclaration(st) && !ts.isTypeAliasDeclaration(st) && declares.some((n) => GLOBAL_NAMES.has(n));
    out.push({ node: st, text: st.getText(sf), declares, mentions: identifiersIn(st), effectful: shadows || !inertStatement(st, env) });
    if (!hasModifier(st, ts.SyntaxKind.DeclareKeyword)) for (const n of declaredNames(st)) ready.add(n);
  }
  // The module function's CommonJS parameters reach modules and exports by a string
  // (`require("./x.md").f`, `exports[name]`), and `arguments` reaches them all: no name to follow.
  const unfollowable = (ids: ReadonlySet<string>) => UNFOLLOWABLE.some((n) => ids.has(n));
  if (out.some((s) => unfollowable(s.mentions)) || tests.some((t) => unfollowable(identifiersIn(t)))) return null;
  return out;
}

/** Globals the emitted code may use without the source naming them (a fixed list: the key must
 *  not depend on the build's own realm). */
const GLOBAL_NAMES = new Set<string>([...FAST_GLOBALS, "Promise", "Date", "Function", "Iterator", "SuppressedError", "DisposableStack", "AsyncDisposableStack"]);

/** Names through which code reaches a binding without naming it (the module function's parameters). */
const UNFOLLOWABLE = ["require", "exports", "module", "arguments"];

const parseErrors = (sf: ts.SourceFile) => ((sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? []).length > 0;

export function identifiersIn(node: ts.Node, into = new Set<string>()): Set<string> {
  if (ts.isIdentifier(node)) into.add(node.text);
  node.forEachChild((c) => void identifiersIn(c, into));
  return into;
}

function bindingNames(name: ts.BindingName, into: string[]): string[] {
  if (ts.isIdentifier(name)) into.push(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, into);
  return into;
}

export function declaredNames(st: ts.Statement): string[] {
  if (ts.isVariableStatement(st)) return st.declarationList.declarations.flatMap((d) => bindingNames(d.name, []));
  if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st) || ts.isEnumDeclaration(st)) && st.name) return [st.name.text];
  if (ts.isModuleDeclaration(st) && ts.isIdentifier(st.name)) return [st.name.text];
  if (ts.isImportDeclaration(st) && st.importClause) {
    const c = st.importClause, names: string[] = [];
    if (c.name) names.push(c.name.text);
    const nb = c.namedBindings;
    if (nb && ts.isNamespaceImport(nb)) names.push(nb.name.text);
    if (nb && ts.isNamedImports(nb)) for (const e of nb.elements) names.push(e.name.text);
    return names;
  }
  return [];
}

export const hasModifier = (n: ts.Node, kind: ts.SyntaxKind) => (ts.canHaveModifiers(n) ? ts.getModifiers(n) ?? [] : []).some((m) => m.kind === kind);

/** `ready(name)`: the binding is initialized where the statement runs; `imported(name)`: it is an import. */
interface Env {
  ready(name: string): boolean;
  imported(name: string): boolean;
}

function inertStatement(st: ts.Statement, env: Env): boolean {
  if (hasModifier(st, ts.SyntaxKind.DeclareKeyword)) return true;
  if (ts.isFunctionDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) return true;
  if (ts.isClassDeclaration(st)) return inertClass(st, env);
  if (ts.isVariableStatement(st)) {
    // NodeFlags: Const 2, Using 4, AwaitUsing 6 (Const | Using): compare the block-scope bits whole.
    const scope = st.declarationList.flags & ts.NodeFlags.BlockScoped;
    if (scope === ts.NodeFlags.Using || scope === ts.NodeFlags.AwaitUsing) return false;
    // A destructuring pattern runs code at load (defaults, computed keys, iterators) and throws on
    // undefined: only plain names are inert.
    return st.declarationList.declarations.every((d) => ts.isIdentifier(d.name) && (d.initializer === undefined || inertExpression(d.initializer, env)));
  }
  return false;
}

function inertClass(c: ts.ClassLikeDeclaration, env: Env): boolean {
  if (c.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword)) return false;
  if (ts.canHaveDecorators(c) && (ts.getDecorators(c) ?? []).length > 0) return false;
  return c.members.every((m) => {
    if (ts.isClassStaticBlockDeclaration(m)) return false;
    if (m.name && ts.isComputedPropertyName(m.name)) return false;
    if (ts.canHaveDecorators(m) && (ts.getDecorators(m) ?? []).length > 0) return false;
    if (ts.isPropertyDeclaration(m) && hasModifier(m, ts.SyntaxKind.StaticKeyword) && m.initializer && !inertExpression(m.initializer, env)) return false;
    return true;
  });
}

/** An expression whose evaluation calls nothing and cannot throw. */
function inertExpression(e: ts.Expression, env: Env): boolean {
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e) || ts.isNonNullExpression(e)) return inertExpression(e.expression, env);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return true;
  if (ts.isClassExpression(e)) return inertClass(e, env);
  if (ts.isIdentifier(e)) return env.ready(e.text);
  // One property of an imported binding: lib/'s tables, which have no getters (a chapter's own
  // object may have one, and a getter runs code).
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) return env.imported(e.expression.text);
  if (ts.isStringLiteral(e) || ts.isNumericLiteral(e) || ts.isBigIntLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isRegularExpressionLiteral(e)) return true;
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword || e.kind === ts.SyntaxKind.NullKeyword) return true;
  if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)) return ts.isNumericLiteral(e.operand);
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => !ts.isSpreadElement(x) && !ts.isOmittedExpression(x) && inertExpression(x, env));
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.every((p) => {
      if (p.name && ts.isComputedPropertyName(p.name)) return false;
      if (ts.isPropertyAssignment(p)) return inertExpression(p.initializer, env);
      if (ts.isShorthandPropertyAssignment(p)) return env.ready(p.name.text);
      return ts.isMethodDeclaration(p) || ts.isGetAccessorDeclaration(p) || ts.isSetAccessorDeclaration(p);
    });
  }
  return false;
}

/**
 * The texts of the definitions the test block `block` can reach, in chapter order (see the head
 * of this file), or null when every definition counts (no test block, or a definition block that
 * does not parse).
 */
export function definitionSlice(ex: Extract, block: Block | undefined): string[] | null {
  const stmts = block ? statementsOf(ex) : null;
  if (!stmts) return null;
  const byName = new Map<string, Stmt[]>();
  for (const s of stmts) for (const n of s.declares) byName.set(n, [...(byName.get(n) ?? []), s]);
  const keep = new Set<Stmt>();
  const todo: Stmt[] = [];
  const reach = (s: Stmt) => {
    if (keep.has(s)) return;
    keep.add(s);
    todo.push(s);
  };
  const mention = (names: Iterable<string>) => {
    for (const n of names) for (const s of byName.get(n) ?? []) reach(s);
  };
  const sf = ts.createSourceFile(`${block!.id}.ts`, block!.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  for (const s of stmts) if (s.effectful) reach(s);
  mention(identifiersIn(sf));
  while (todo.length > 0) mention(todo.pop()!.mentions);
  return stmts.filter((s) => keep.has(s)).map((s) => s.text);
}
