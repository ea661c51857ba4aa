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
//     property of such a binding (`COMMITS.x`: an object's property read does not throw), and
//     object and array literals of those, with no spread or computed key.
//   - everything else is *effectful* and always in the slice: imports, expression statements,
//     exports, enums, namespaces, a `const` whose initializer calls or reads anything.
// The slice is the effectful statements plus every statement that declares a name reachable from
// the test block or from an effectful statement, through the identifiers their text mentions
// (any identifier with that name, so a local that shadows a top-level name only adds to it).
// A definition block that does not parse, or a unit with no test block, takes every definition.

import { ts } from "ts-morph";
import type { Block, Extract } from "./extract.ts";

interface Stmt {
  /** The statement's text, trivia before it excluded. */
  text: string;
  declares: string[];
  mentions: Set<string>;
  effectful: boolean;
}

/** The top-level statements of a chapter's definitions, in chapter order; null when one does not parse. */
const parsed = new WeakMap<Extract, Stmt[] | null>();

function statementsOf(ex: Extract): Stmt[] | null {
  if (parsed.has(ex)) return parsed.get(ex)!;
  const files: { sf: ts.SourceFile; st: ts.Statement }[] = [];
  for (const b of ex.blocks) {
    if (b.flags.test) continue;
    const sf = ts.createSourceFile(`${b.id}.ts`, b.code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    if (((sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? []).length > 0) {
      parsed.set(ex, null);
      return null;
    }
    for (const st of sf.statements) files.push({ sf, st });
  }
  // Initialized before the module body runs: imports and function declarations (hoisted).
  const ready = new Set<string>(["undefined"]);
  for (const { st } of files) if (ts.isImportDeclaration(st) || ts.isFunctionDeclaration(st)) for (const n of declaredNames(st)) ready.add(n);
  const out: Stmt[] = [];
  for (const { sf, st } of files) {
    out.push({ text: st.getText(sf), declares: declaredNames(st), mentions: identifiersIn(st), effectful: !inertStatement(st, (n) => ready.has(n)) });
    for (const n of declaredNames(st)) ready.add(n);
  }
  parsed.set(ex, out);
  return out;
}

function identifiersIn(node: ts.Node, into = new Set<string>()): Set<string> {
  if (ts.isIdentifier(node)) into.add(node.text);
  node.forEachChild((c) => void identifiersIn(c, into));
  return into;
}

function bindingNames(name: ts.BindingName, into: string[]): string[] {
  if (ts.isIdentifier(name)) into.push(name.text);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, into);
  return into;
}

function declaredNames(st: ts.Statement): string[] {
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

const hasModifier = (n: ts.Node, kind: ts.SyntaxKind) => (ts.canHaveModifiers(n) ? ts.getModifiers(n) ?? [] : []).some((m) => m.kind === kind);

/** `ready(name)`: the binding is initialized where the statement runs. */
type Ready = (name: string) => boolean;

function inertStatement(st: ts.Statement, ready: Ready): boolean {
  if (hasModifier(st, ts.SyntaxKind.DeclareKeyword)) return true;
  if (ts.isFunctionDeclaration(st) || ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) return true;
  if (ts.isClassDeclaration(st)) return inertClass(st, ready);
  if (ts.isVariableStatement(st)) return st.declarationList.declarations.every((d) => d.initializer === undefined || inertExpression(d.initializer, ready));
  return false;
}

function inertClass(c: ts.ClassLikeDeclaration, ready: Ready): boolean {
  if (c.heritageClauses?.some((h) => h.token === ts.SyntaxKind.ExtendsKeyword)) return false;
  if (ts.canHaveDecorators(c) && (ts.getDecorators(c) ?? []).length > 0) return false;
  return c.members.every((m) => {
    if (ts.isClassStaticBlockDeclaration(m)) return false;
    if (m.name && ts.isComputedPropertyName(m.name)) return false;
    if (ts.canHaveDecorators(m) && (ts.getDecorators(m) ?? []).length > 0) return false;
    if (ts.isPropertyDeclaration(m) && hasModifier(m, ts.SyntaxKind.StaticKeyword) && m.initializer && !inertExpression(m.initializer, ready)) return false;
    return true;
  });
}

/** An expression whose evaluation calls nothing and cannot throw. */
function inertExpression(e: ts.Expression, ready: Ready): boolean {
  if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isTypeAssertionExpression(e) || ts.isNonNullExpression(e)) return inertExpression(e.expression, ready);
  if (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) return true;
  if (ts.isClassExpression(e)) return inertClass(e, ready);
  if (ts.isIdentifier(e)) return ready(e.text);
  // One property of an initialized binding (a getter could run code: chapters' bindings here are
  // lib/'s frozen tables and their own objects, which have none).
  if (ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression)) return ready(e.expression.text);
  if (ts.isStringLiteral(e) || ts.isNumericLiteral(e) || ts.isBigIntLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isRegularExpressionLiteral(e)) return true;
  if (e.kind === ts.SyntaxKind.TrueKeyword || e.kind === ts.SyntaxKind.FalseKeyword || e.kind === ts.SyntaxKind.NullKeyword) return true;
  if (ts.isPrefixUnaryExpression(e) && (e.operator === ts.SyntaxKind.MinusToken || e.operator === ts.SyntaxKind.PlusToken)) return ts.isNumericLiteral(e.operand);
  if (ts.isArrayLiteralExpression(e)) return e.elements.every((x) => !ts.isSpreadElement(x) && !ts.isOmittedExpression(x) && inertExpression(x, ready));
  if (ts.isObjectLiteralExpression(e)) {
    return e.properties.every((p) => {
      if (p.name && ts.isComputedPropertyName(p.name)) return false;
      if (ts.isPropertyAssignment(p)) return inertExpression(p.initializer, ready);
      if (ts.isShorthandPropertyAssignment(p)) return ready(p.name.text);
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
  if (((sf as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics ?? []).length > 0) return null;
  for (const s of stmts) if (s.effectful) reach(s);
  mention(identifiersIn(sf));
  while (todo.length > 0) mention(todo.pop()!.mentions);
  return stmts.filter((s) => keep.has(s)).map((s) => s.text);
}
