// A claim is named by its id and told apart from its siblings by its title. The book gives one
// id to a family of claims on purpose (`C06.1-2018` for each design and scenario of the spec's
// claim C06.1; the scoreboard shows every member of a key claim's family). Two claims with the
// same id *and* the same title are a copy that was not finished: the page, the scoreboard and a
// review of `npm run diff` cannot tell them apart. So the second is an error at its `id`, found
// statically before anything runs. One call that runs several times (a loop over eras or
// designs) is one place and is not a duplicate.

import { ts } from "ts-morph";

/** The explorer's functions whose first argument is a claim spec with an `id`. */
const CLAIM_FUNCTIONS = new Set(["claim", "check"]);
// group.ts: ClaimGroup's claim()/check() (together()) take the same specs.
const CLAIM_MODULE = /[\\/]lib[\\/]explorer[\\/](claim|group)\.ts$/;

export interface DuplicateClaimId { line: number; col: number; id: string; title: string; firstLine: number }

/** Is `callee` the explorer's `claim` or `check`, however it was imported or renamed? */
function isClaimFunction(checker: ts.TypeChecker, callee: ts.Expression): boolean {
  let sym = checker.getSymbolAtLocation(ts.isPropertyAccessExpression(callee) ? callee.name : callee);
  if (!sym) return false;
  if (sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
  const decl = sym.declarations?.[0];
  return decl !== undefined && CLAIM_FUNCTIONS.has(sym.name) && CLAIM_MODULE.test(decl.getSourceFile().fileName);
}

/**
 * The literal `id` of a claim spec written in place (`claim({ id: "C03.2", title, … })`), and its
 * title as written (the literal's text, or the expression's source text), if it has both.
 */
function idAndTitle(sf: ts.SourceFile, arg: ts.Expression | undefined): { id: ts.StringLiteralLike; title: string } | undefined {
  if (!arg || !ts.isObjectLiteralExpression(arg)) return undefined;
  let id: ts.StringLiteralLike | undefined;
  let title: string | undefined;
  for (const p of arg.properties) {
    if (!ts.isPropertyAssignment(p)) continue;
    const name = p.name.getText(sf);
    if (name === "id" && ts.isStringLiteralLike(p.initializer)) id = p.initializer;
    if (name === "title") title = ts.isStringLiteralLike(p.initializer) ? p.initializer.text : p.initializer.getText(sf);
  }
  return id && title !== undefined ? { id, title } : undefined;
}

/** Every claim call after the first with the same literal id and title, with 1-based TypeScript positions. */
export function duplicateClaimIds(sf: ts.SourceFile, checker: ts.TypeChecker): DuplicateClaimId[] {
  const first = new Map<string, number>();
  const out: DuplicateClaimId[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n) && isClaimFunction(checker, n.expression)) {
      const spec = idAndTitle(sf, n.arguments[0]);
      if (spec) {
        const pos = sf.getLineAndCharacterOfPosition(spec.id.getStart(sf));
        const key = spec.id.text + "\0" + spec.title;
        const seen = first.get(key);
        if (seen === undefined) first.set(key, pos.line + 1);
        else out.push({ line: pos.line + 1, col: pos.character + 1, id: spec.id.text, title: spec.title, firstLine: seen });
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return out;
}
