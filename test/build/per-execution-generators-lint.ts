// lib/kernel/README.md, "No generator functions made per execution": a generator function created
// inside another function is a new closure on every call, and V8 gives each generator closure its
// own initial map in old space the first time it runs, which keeps the execution it closes over
// alive through every scavenge. A model's setup runs once per execution, so the book writes thread
// bodies and callbacks as arrows calling a module-level `function*`, and designs as classes.
//
// This finds, syntactically, every generator function that is made each time some function runs:
//  * a `function*` expression or declaration inside a function, arrow, method or accessor;
//  * a generator method of an object literal inside one (`{ *submit() {…} }`);
//  * a generator method of a class that is itself declared inside one (a class per call);
//  * any of these in an instance field's initializer (run by every `new`).
// Module-level `function*`, generator methods of module-level classes and of module-level object
// literals are made once per load and are fine.

import ts from "typescript";

export interface MadePerCall {
  /** 1-based line within the text given. */
  line: number;
  /** What is made: the method's or function's name, or `function*`. */
  what: string;
  /** The innermost function it is made in. */
  in: string;
}

const isFunctionLike = (n: ts.Node): n is ts.FunctionLikeDeclaration =>
  ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n) ||
  ts.isConstructorDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n);

function nameOf(n: ts.Node, sf: ts.SourceFile): string {
  if ((ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isMethodDeclaration(n) || ts.isGetAccessorDeclaration(n) || ts.isSetAccessorDeclaration(n)) && n.name) {
    return n.name.getText(sf);
  }
  if (ts.isConstructorDeclaration(n)) return "constructor";
  if (ts.isPropertyDeclaration(n)) return `field ${n.name.getText(sf)}`;
  // An arrow or anonymous function: name it after what it is assigned to, if anything.
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && p.name) return p.name.getText(sf);
  return ts.isArrowFunction(n) ? "(arrow)" : "(function)";
}

/** Every generator function in `code` (one TypeScript module) that is made per call of an enclosing function. */
export function findPerCallGenerators(code: string, fileName = "block.ts"): MadePerCall[] {
  const sf = ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const out: MadePerCall[] = [];
  const visit = (n: ts.Node, enclosing: ts.Node | null): void => {
    const generator = (ts.isFunctionExpression(n) || ts.isFunctionDeclaration(n) || ts.isMethodDeclaration(n)) && n.asteriskToken !== undefined && n.body !== undefined;
    if (generator && enclosing) {
      // A method's closure is made when its object literal or class is evaluated.
      out.push({
        line: sf.getLineAndCharacterOfPosition(n.getStart(sf)).line + 1,
        what: ts.isFunctionExpression(n) && !n.name ? "function*" : nameOf(n, sf),
        in: nameOf(enclosing, sf),
      });
    }
    // An instance field's initializer runs at every `new`: as made per call as a constructor's body.
    const fieldOfInstance = ts.isPropertyDeclaration(n) && !n.modifiers?.some((m) => m.kind === ts.SyntaxKind.StaticKeyword);
    const inner = isFunctionLike(n) || fieldOfInstance ? n : enclosing;
    ts.forEachChild(n, (c) => visit(c, inner));
  };
  visit(sf, null);
  return out;
}
