// The proof that lib/ can be linked once per chapter worker and shared by all the chapter's
// units (build/src/sandbox/worker.ts): no module of lib/ keeps state of its own between two calls,
// except the few ambient slots on ALLOWED below, each with the reason it cannot carry anything
// from one unit to the next.
//
// Module state is found syntactically, with the type checker to resolve names:
//  * `let` / `var` at the top level of a module;
//  * a top-level `const` whose value may be mutable: anything but a primitive, a function, a name
//    or member of another binding (checked where it is declared), or `Object.freeze(...)` of an
//    array or object literal whose members are themselves immutable (so `new Map()`, `new Set()`,
//    a class instance, an unfrozen `[]` or `{}`, or a call's result all count, whatever their
//    declared type says: `readonly` is a compile-time promise, freezing a run-time one);
//  * a `static` class field that is not `readonly`, or a readonly one holding a mutable value, and
//    `static {}` blocks; `this.x = …` in a static method;
//  * inside any function (code that runs after the module loaded), an assignment, `++`, `--` or
//    `delete` whose target is a module-level binding or a property of one (also through an import:
//    `Imported.x = …`), or `Object.assign/defineProperty/…` on one;
//  * at load time, the same writes when they hang a mutable value on a binding (an expando
//    `f.cache = new Map()`). Load-time code may otherwise initialise its module: it runs once per
//    load, shared or not, with the same result.

import path from "node:path";
import ts from "typescript";

export interface Offence {
  file: string;
  line: number;
  name: string;
  rule: "let" | "mutable-const" | "static" | "assignment";
  /** The function (or method) an assignment is in. */
  in: string | null;
  text: string;
}

const MUTATORS = new Set(["assign", "defineProperty", "defineProperties", "setPrototypeOf", "set", "deleteProperty"]);

/** Every offence in `files` (absolute paths), whose program is built with `host` (tests plant files). */
export function findModuleState(root: string, files: readonly string[], host?: ts.CompilerHost): Offence[] {
  const options: ts.CompilerOptions = { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, strict: true, skipLibCheck: true, types: [] };
  const program = ts.createProgram({ rootNames: [...files], options, ...(host ? { host } : {}) });
  const checker = program.getTypeChecker();
  const immutable = immutableIn(checker);
  const out: Offence[] = [];
  const inScope = new Set(files.map((f) => path.resolve(f)));

  for (const file of files) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file}: not in the program`);
    const rel = path.relative(root, file).split(path.sep).join("/");
    const report = (node: ts.Node, name: string, rule: Offence["rule"]) => {
      const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
      out.push({ file: rel, line, name, rule, in: enclosingName(node), text: node.getText(sf).split("\n")[0]!.slice(0, 120) });
    };

    /** Is this declaration at the top level of a module in scope (a module-level binding)? */
    const moduleLevel = (d: ts.Declaration): boolean => {
      const src = d.getSourceFile();
      if (!inScope.has(path.resolve(src.fileName))) return false;
      let n: ts.Node = d;
      if (ts.isVariableDeclaration(n)) n = n.parent.parent; // declaration list, statement
      else if (ts.isBindingElement(n)) {
        while (!ts.isVariableStatement(n) && n.parent) n = n.parent;
      }
      return n.parent === src && (ts.isVariableStatement(n) || ts.isFunctionDeclaration(n) || ts.isClassDeclaration(n) || ts.isEnumDeclaration(n));
    };
    /** A module-level binding of lib/ or a global of the realm (`Math`, `globalThis`): shared either way. */
    const bindingOf = (id: ts.Identifier): ts.Declaration | "global" | null => {
      if (id.text === "globalThis") return "global";
      let s = checker.getSymbolAtLocation(id);
      if (!s) return null;
      if (s.flags & ts.SymbolFlags.Alias) s = checker.getAliasedSymbol(s);
      if (s.declarations?.some((d) => program.isSourceFileDefaultLibrary(d.getSourceFile()))) return "global";
      return s.declarations?.find((d) => moduleLevel(d)) ?? null;
    };
    /** The name an assignment target starts from: `x`, `x.a.b`, `x[i]`. */
    const rootOf = (e: ts.Expression): ts.Identifier | "this" | null => {
      let n = skipOuter(e);
      while (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n)) n = skipOuter(n.expression);
      if (ts.isIdentifier(n)) return n;
      if (n.kind === ts.SyntaxKind.ThisKeyword) return "this";
      return null;
    };
    const checkTarget = (target: ts.Expression, at: ts.Node) => {
      const r = rootOf(target);
      if (r === "this") {
        if (inStaticMember(at)) report(at, "this", "static");
        return;
      }
      if (r && bindingOf(r)) report(at, r.text, "assignment");
    };

    /** An argument of Object.assign/defineProperty at load time that adds nothing mutable. */
    const frozenArg = (a: ts.Expression): boolean => {
      const e = skipOuter(a);
      if (ts.isObjectLiteralExpression(e)) return e.properties.every((p) => (ts.isPropertyAssignment(p) ? immutable(p.initializer) : ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p)));
      return immutable(e);
    };
    const visit = (node: ts.Node, inFunction: boolean): void => {
      if (!inFunction) {
        if (ts.isVariableStatement(node) && node.parent === sf) {
          const isConst = (node.declarationList.flags & ts.NodeFlags.Const) !== 0;
          for (const d of node.declarationList.declarations) {
            const name = d.name.getText(sf);
            if (!isConst) report(d, name, "let");
            else if (!d.initializer || !immutable(d.initializer)) report(d, name, "mutable-const");
          }
        }
      }
      if ((ts.isPropertyDeclaration(node) || ts.isClassStaticBlockDeclaration(node)) && isStatic(node)) {
        if (ts.isClassStaticBlockDeclaration(node)) report(node, "static {}", "static");
        else {
          const readonly = node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ReadonlyKeyword) ?? false;
          if (!readonly || (node.initializer && !immutable(node.initializer))) report(node, node.name.getText(sf), "static");
        }
      }
      if (!inFunction) {
        // Load-time code may initialise, but not hang a mutable value on a binding (an expando
        // `f.cache = new Map()` is module state all the same).
        if (ts.isBinaryExpression(node) && isAssignment(node.operatorToken.kind) && !ts.isIdentifier(skipOuter(node.left)) && !immutable(node.right)) checkTarget(node.left, node);
        else if (ts.isCallExpression(node) && isMutator(node) && node.arguments.slice(1).some((a) => !frozenArg(a))) checkTarget(node.arguments[0]!, node);
      }
      if (inFunction) {
        if (ts.isBinaryExpression(node) && isAssignment(node.operatorToken.kind)) checkTarget(node.left, node);
        else if ((ts.isPrefixUnaryExpression(node) || ts.isPostfixUnaryExpression(node)) && (node.operator === ts.SyntaxKind.PlusPlusToken || node.operator === ts.SyntaxKind.MinusMinusToken)) checkTarget(node.operand, node);
        else if (ts.isDeleteExpression(node)) checkTarget(node.expression, node);
        else if (ts.isCallExpression(node) && isMutator(node)) checkTarget(node.arguments[0]!, node);
      }
      const fn = inFunction || ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node) || (ts.isPropertyDeclaration(node) && !isStatic(node));
      ts.forEachChild(node, (c) => visit(c, fn));
    };
    visit(sf, false);
  }
  return out;
}

/** Object.assign / defineProperty / Reflect.set … : writes its first argument. */
function isMutator(node: ts.CallExpression): boolean {
  const callee = skipOuter(node.expression);
  return node.arguments.length > 0 && ts.isPropertyAccessExpression(callee) && ts.isIdentifier(callee.expression) && (callee.expression.text === "Object" || callee.expression.text === "Reflect") && MUTATORS.has(callee.name.text);
}

/** Is `e` immutable however it is used: primitives, functions, names, frozen literals of those. */
function immutableIn(checker: ts.TypeChecker): (e: ts.Expression) => boolean {
  const immutable = (e: ts.Expression): boolean => {
  e = skipOuter(e);
  switch (e.kind) {
    case ts.SyntaxKind.StringLiteral:
    case ts.SyntaxKind.NumericLiteral:
    case ts.SyntaxKind.BigIntLiteral:
    case ts.SyntaxKind.NoSubstitutionTemplateLiteral:
    case ts.SyntaxKind.TrueKeyword:
    case ts.SyntaxKind.FalseKeyword:
    case ts.SyntaxKind.NullKeyword:
    case ts.SyntaxKind.Identifier:
    case ts.SyntaxKind.ArrowFunction:
    case ts.SyntaxKind.FunctionExpression:
      return true;
    case ts.SyntaxKind.RegularExpressionLiteral:
      // exec() and test() write lastIndex only with the g or y flag.
      return !/[gy][a-z]*$/.test(e.getText().slice(e.getText().lastIndexOf("/") + 1));
  }
  if (ts.isPropertyAccessExpression(e)) return true; // a member of a binding checked where it is declared
  if (ts.isTemplateExpression(e)) return e.templateSpans.every((s) => immutable(s.expression));
  if (ts.isPrefixUnaryExpression(e) || ts.isTypeOfExpression(e)) return true; // a number, boolean or string
  if (ts.isBinaryExpression(e)) {
    const k = e.operatorToken.kind;
    if (k === ts.SyntaxKind.BarBarToken || k === ts.SyntaxKind.AmpersandAmpersandToken || k === ts.SyntaxKind.QuestionQuestionToken || k === ts.SyntaxKind.CommaToken) return immutable(e.left) && immutable(e.right);
    return !isAssignment(k);
  }
  if (ts.isConditionalExpression(e)) return immutable(e.whenTrue) && immutable(e.whenFalse);
  if (ts.isClassExpression(e)) return true; // its static fields are checked as such
  if (ts.isCallExpression(e)) {
    const c = skipOuter(e.expression);
    if (ts.isPropertyAccessExpression(c) && ts.isIdentifier(c.expression) && c.expression.text === "Object" && c.name.text === "freeze" && e.arguments.length === 1) {
      return frozenContents(e.arguments[0]!);
    }
    // A call whose result is a primitive (a number, a flag), or a call of a module's own arrow
    // function whose body is an immutable expression (`const c = (id) => Object.freeze({ id })`).
    if (primitive(checker.getTypeAtLocation(e))) return true;
    if (ts.isIdentifier(c)) {
      const d = checker.getSymbolAtLocation(c)?.valueDeclaration;
      if (d && ts.isVariableDeclaration(d) && d.initializer && ts.isArrowFunction(d.initializer) && !ts.isBlock(d.initializer.body)) return immutable(d.initializer.body);
    }
  }
  return false;
  };

/** What `Object.freeze(x)` makes immutable: a literal whose members are immutable (or frozen themselves). */
const frozenContents = (x: ts.Expression): boolean => {
  x = skipOuter(x);
  if (ts.isArrayLiteralExpression(x)) return x.elements.every((el) => (ts.isSpreadElement(el) ? immutable(el.expression) : immutable(el)));
  if (ts.isObjectLiteralExpression(x)) {
    return x.properties.every((p) => {
      if (ts.isPropertyAssignment(p)) return immutable(p.initializer);
      if (ts.isShorthandPropertyAssignment(p) || ts.isMethodDeclaration(p)) return true;
      if (ts.isSpreadAssignment(p)) return immutable(p.expression);
      return false; // accessors: a setter keeps state somewhere
    });
  }
  return immutable(x);
};
  return immutable;
}

function primitive(t: ts.Type): boolean {
  if (t.isUnion()) return t.types.every(primitive);
  return (t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.ESSymbolLike | ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)) !== 0;
}

/** The name of the innermost named function, method or function-valued declaration around `n`. */
function enclosingName(n: ts.Node): string | null {
  for (let p: ts.Node | undefined = n.parent; p; p = p.parent) {
    if ((ts.isFunctionDeclaration(p) || ts.isMethodDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p)) && p.name) return p.name.getText();
    if ((ts.isArrowFunction(p) || ts.isFunctionExpression(p)) && (ts.isVariableDeclaration(p.parent) || ts.isPropertyAssignment(p.parent))) return p.parent.name.getText();
    if (ts.isConstructorDeclaration(p)) return "constructor";
  }
  return null;
}

function skipOuter(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    else return e;
  }
}

function isStatic(n: ts.Node): boolean {
  if (ts.isClassStaticBlockDeclaration(n)) return true;
  return ts.canHaveModifiers(n) && (ts.getModifiers(n)?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword) ?? false);
}

function inStaticMember(n: ts.Node): boolean {
  for (let p: ts.Node | undefined = n; p; p = p.parent) {
    if (ts.isArrowFunction(p)) continue; // arrows keep the enclosing `this`
    if (ts.isMethodDeclaration(p) || ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isPropertyDeclaration(p) || ts.isClassStaticBlockDeclaration(p)) return isStatic(p);
    if (ts.isFunctionLike(p)) return false;
  }
  return false;
}

function isAssignment(k: ts.SyntaxKind): boolean {
  return k >= ts.SyntaxKind.FirstAssignment && k <= ts.SyntaxKind.LastAssignment;
}
