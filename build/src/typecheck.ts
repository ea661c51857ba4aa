// Stage 3: type-check every chapter, strict and without Node's types, before anything runs.
//
// Each chapter becomes an in-memory `<chapter>.md.ts` whose lines are the Markdown lines, so
// TypeScript's own positions are the chapter's. `import "./01-x.md"` resolves to the in-memory
// `01-x.md.ts` by TypeScript's ordinary extension probing.

import path from "node:path";
import { Project, ts, type SourceFile } from "ts-morph";
import type { Diagnostic } from "./diagnostic.ts";
import { markdownColumn, RUNTIME_NS, tangle } from "./tangle.ts";
import type { Extract } from "./extract.ts";
import { checkImport } from "./import-policy.ts";
import { duplicateClaimIds } from "./claim-ids.ts";

/** Stands in for build/runtime/chapter.ts: a chapter sees only `test` and `record`, never `__bookHost`. */
const RUNTIME_STUB = `
export declare function test(id: string, run: { line: number; skip: boolean; fails: boolean }, body: () => Promise<void>): void;
export declare function record(value: unknown): void;
`;

export const CHAPTER_COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  allowImportingTsExtensions: true,
  // No Node, no DOM: `process`, `require` and `fetch` are errors in a chapter.
  types: [],
  lib: ["lib.es2023.d.ts"],
  skipLibCheck: true,
  noFallthroughCasesInSwitch: true,
};

/**
 * The type-check stage: every chapter's module first (a chapter's types depend on those it
 * imports), then `todo`'s diagnostics, one chapter at a time. It yields to the event loop after
 * each chapter, since the run stage's lanes overlap it on this thread: a lane whose worker
 * finished a unit waits for its "done" to be read before it sends the next unit, and one
 * synchronous block of seconds would leave every worker idle that long.
 */
export async function checkChapters(
  checker: Pick<ChapterTypeChecker, "update" | "check">,
  extracts: ReadonlyMap<string, Extract>,
  files: readonly string[],
  todo: readonly string[],
  diags: ReadonlyMap<string, Diagnostic[]>,
): Promise<void> {
  for (const f of files) checker.update(extracts.get(f)!);
  for (const f of todo) {
    if (diags.get(f)!.length > 0) continue; // an extract error makes the tangle unreliable
    diags.get(f)!.push(...checker.check(extracts.get(f)!, files));
    await new Promise((r) => setImmediate(r));
  }
}

export class ChapterTypeChecker {
  private readonly project: Project;
  private readonly stubPath: string;

  constructor(private readonly root: string) {
    this.project = new Project({ compilerOptions: CHAPTER_COMPILER_OPTIONS, skipAddingFilesFromTsConfig: true });
    this.stubPath = path.join(root, "build/runtime/.typecheck-stub.ts");
    this.project.createSourceFile(this.stubPath, RUNTIME_STUB, { overwrite: true });
  }

  private virtualPath(ex: Extract): string {
    return path.join(this.root, ex.file) + ".ts";
  }

  /** Adds or replaces a chapter's in-memory module. Call for every chapter before `check`. */
  update(ex: Extract): void {
    const abs = path.join(this.root, ex.file);
    let spec = path.relative(path.dirname(abs), this.stubPath).split(path.sep).join("/");
    if (!spec.startsWith(".")) spec = "./" + spec;
    const text = tangle(ex, "run", spec);
    // Watch mode keeps one checker: an unchanged chapter keeps its source file, and its program.
    if (this.project.getSourceFile(this.virtualPath(ex))?.getFullText() === text) return;
    this.project.createSourceFile(this.virtualPath(ex), text, { overwrite: true });
  }

  /** Import-policy and type errors of one chapter, at Markdown positions. */
  check(ex: Extract, chapterOrder: readonly string[]): Diagnostic[] {
    const sf = this.project.getSourceFileOrThrow(this.virtualPath(ex));
    const out = this.importDiagnostics(ex, sf, chapterOrder);
    // A refused import's own line would only add "cannot find module" noise; report the rest.
    const refused = new Set(out.map((d) => d.line));
    const program = this.project.getProgram().compilerObject;
    const tsf = program.getSourceFile(sf.getFilePath())!;
    const diags = [...program.getSyntacticDiagnostics(tsf), ...program.getSemanticDiagnostics(tsf)];
    for (const d of diags) {
      if (d.category !== ts.DiagnosticCategory.Error) continue;
      const pos = tsf.getLineAndCharacterOfPosition(d.start ?? 0);
      if (refused.has(pos.line + 1)) continue;
      out.push(this.at(ex, pos.line + 1, pos.character + 1, "typecheck", `TS${d.code}`, ts.flattenDiagnosticMessageText(d.messageText, " ")));
    }
    for (const d of duplicateClaimIds(tsf, program.getTypeChecker())) {
      out.push(this.at(ex, d.line, d.col, "typecheck", "duplicate-claim-id",
        `claim "${d.id}" with the title "${d.title}" is already at line ${d.firstLine}; the page, the scoreboard and the diff cannot tell the two apart, so change this one's id or title`));
    }
    return out;
  }

  private importDiagnostics(ex: Extract, sf: SourceFile, chapterOrder: readonly string[]): Diagnostic[] {
    const out: Diagnostic[] = [];
    const abs = path.join(this.root, ex.file);
    const specs: { text: string; node: import("ts-morph").Node }[] = [];
    for (const d of sf.getImportDeclarations()) specs.push({ text: d.getModuleSpecifierValue(), node: d.getModuleSpecifier() });
    for (const d of sf.getExportDeclarations()) {
      const s = d.getModuleSpecifier();
      if (s) specs.push({ text: d.getModuleSpecifierValue()!, node: s });
    }
    const refuse = (n: import("ts-morph").Node, message: string) => {
      const { line, column } = sf.getLineAndColumnAtPos(n.getStart());
      out.push(this.at(ex, line, column, "import", "forbidden-code", message));
    };
    // Lines where tangle.ts itself writes RUNTIME_NS: the import on line 1, a test block's fences.
    const ours = new Set([1, ...ex.blocks.filter((b) => b.flags.test).flatMap((b) => [b.fenceLine, b.endLine])]);
    sf.forEachDescendant((n) => {
      // The sandbox (build/src/sandbox/worker.ts) is what confines a chapter; these two are
      // refused here too, so that the error names the line instead of failing the whole load.
      if (ts.isMetaProperty(n.compilerNode) && n.compilerNode.keywordToken === ts.SyntaxKind.ImportKeyword) {
        refuse(n, "a chapter has no module URL or file (import.meta): it reaches only the simulated machine; remove it");
      }
      if (ts.isIdentifier(n.compilerNode) && n.compilerNode.text === RUNTIME_NS && !ours.has(n.getStartLineNumber())) {
        refuse(n, `${RUNTIME_NS} is the book's own name for its runtime (tangle.ts); a chapter must not use it`);
      }
      if (ts.isCallExpression(n.compilerNode) && ts.isIdentifier(n.compilerNode.expression) && n.compilerNode.expression.text === "eval") {
        refuse(n, "eval() is refused in a chapter: write the code itself, so that a reader (and the type-checker) can see it");
      }
      if (n.getKind() === ts.SyntaxKind.CallExpression && n.getFirstChild()?.getKind() === ts.SyntaxKind.ImportKeyword) {
        const arg = (n.compilerNode as ts.CallExpression).arguments[0];
        if (arg && ts.isStringLiteral(arg)) specs.push({ text: arg.text, node: n });
        else specs.push({ text: "<computed>", node: n });
      }
    });
    for (const s of specs) {
      if (s.node.getStartLineNumber() === 1 && s.text.endsWith(".typecheck-stub.ts")) continue; // ours
      const verdict = s.text === "<computed>"
        ? { ok: false, reason: "a chapter may only import a module named by a string literal, so the import can be checked" }
        : checkImport(this.root, abs, s.text, chapterOrder);
      if (verdict.ok) continue;
      const { line, column } = sf.getLineAndColumnAtPos(s.node.getStart());
      out.push(this.at(ex, line, column, "import", "forbidden-import", verdict.reason!));
    }
    return out;
  }

  private at(ex: Extract, line: number, col: number, stage: Diagnostic["stage"], code: string, message: string): Diagnostic {
    return { file: ex.file, line, col: markdownColumn(ex, line, col), stage, code, message };
  }
}
