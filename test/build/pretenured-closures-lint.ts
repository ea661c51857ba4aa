// lib/kernel/README.md, "No function literal assigned straight to a property": V8's parser marks
// a function literal that is the right-hand side of an assignment to a property (`o.f = () => …`,
// `o[k] = function …`, `o.f ??= …`) as long-lived, "so it can be added as a constant function
// property" (CheckAssigningFunctionLiteralToProperty), and the interpreter and the baseline
// compiler then allocate that closure in the old generation. Made once per execution, such a
// closure keeps what it closes over (a kernel, a driver, a thread's world: the whole execution)
// alive through every young collection until a full one. The same closure bound to a local first,
// passed as an argument, or written in an object literal is allocated young.
//
// This finds, syntactically, every such assignment made each time some function runs: inside a
// function, arrow, method, accessor or constructor, or in an instance field's initializer.
// Assignments at module level run once per load and are fine. The book's sandbox compiles modules
// to CommonJS (build/src/sandbox/modules.ts), where a write to an exported `let` or `var` is a
// write of `exports.name`, a property: those count too.

import ts from "typescript";

export interface PretenuredClosure {
  /** 1-based line within the text given. */
  line: number;
  /** The property assigned, as written (`this.gfx.ops.run_job`, `threads[name]`). */
  target: string;
}

const isFunctionLike = (n: ts.Node): boolean =>
  ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n);

const ASSIGN = new Set([ts.SyntaxKind.EqualsToken, ts.SyntaxKind.QuestionQuestionEqualsToken, ts.SyntaxKind.BarBarEqualsToken, ts.SyntaxKind.AmpersandAmpersandEqualsToken]);

/** What V8 sees once TypeScript's types are erased: parentheses and type assertions are no expression of their own. */
function erased(e: ts.Expression): ts.Expression {
  for (;;) {
    if (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isNonNullExpression(e) || ts.isTypeAssertionExpression(e)) e = e.expression;
    else return e;
  }
}

/** Every assignment in `code` (one TypeScript module) of a function literal straight to a property, made per call of an enclosing function. */
export function findPretenuredClosures(code: string, fileName = "block.ts"): PretenuredClosure[] {
  const sf = ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: PretenuredClosure[] = [];
  // Exported mutable bindings (`export let f`, `export var g`), which CommonJS turns into properties.
  const exported = new Set<string>();
  for (const st of sf.statements) {
    if (ts.isVariableStatement(st) && st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) && !(st.declarationList.flags & ts.NodeFlags.Const)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) exported.add(d.name.text);
    }
  }
  const visit = (n: ts.Node, inFunction: boolean): void => {
    if (inFunction && ts.isBinaryExpression(n) && ASSIGN.has(n.operatorToken.kind)) {
      const left = erased(n.left), right = erased(n.right);
      const property = ts.isPropertyAccessExpression(left) || ts.isElementAccessExpression(left) || (ts.isIdentifier(left) && exported.has(left.text));
      if (property && (ts.isArrowFunction(right) || ts.isFunctionExpression(right))) {
        out.push({ line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1, target: left.getText(sf) });
      }
    }
    const fieldOfInstance = ts.isPropertyDeclaration(n) && !n.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
    ts.forEachChild(n, (c) => visit(c, inFunction || isFunctionLike(n) || fieldOfInstance));
  };
  visit(sf, false);
  return out;
}
