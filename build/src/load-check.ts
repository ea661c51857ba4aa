// What a chapter's module does when a worker loads it, read from the code the worker evaluates
// (modules.ts `emit`), for the unit keys (hash.ts). Two things there depend on statements that a
// slice leaves out (slice.ts, import-slice.ts), so the keys read them from the module as a whole:
//
//  * Whether it loads at all. SES refuses text that looks like a direct `eval(` anywhere, string
//    literals included, and a top-level `let`, `const` or `class` named like one of the module
//    function's parameters (`class Map {}`) is an early SyntaxError there; TypeScript accepts
//    both. A statement no code names can thus make every unit that loads its chapter fail. A
//    chapter that does not load cleanly is keyed whole.
//  * Which chapters it loads. The transpiler drops an import that no value uses, and with it the
//    load of that chapter and whatever its load does; which uses are values is TypeScript's call
//    (a name in a type position is not one), so the keys take the chapters the emitted code still
//    `require`s.

import type { Extract } from "./extract.ts";
import { emit, runtimeSpecifier } from "./sandbox/modules.ts";
import { FAST_GLOBALS, MODULE_PARAMS } from "./sandbox/protocol.ts";
import { tangle } from "./tangle.ts";

export interface ChapterLoad {
  /** The worker can evaluate the module: no syntax error, nothing SES refuses, no early error. */
  readonly loads: boolean;
  /** The chapters its code loads (the specifiers it requires), sorted. */
  readonly chapters: readonly string[];
}

/** SES's check for a direct eval (ses/src/transforms.js, `someDirectEvalPattern`), which it applies
 *  to the whole text and `sesSafe` does not escape. */
const SES_DIRECT_EVAL = /(^|[^.])\beval(\s*\()/;
/** SES's check for an import expression (ses/src/transforms.js, `importPattern`): `sesSafe` escapes
 *  only `import(`, not `import (`, `import\n(`, `import//` or `import/*`. */
const SES_IMPORT = /(^|[^.]|\.\.\.)\bimport(\s*(?:\(|\/[/*]))/;

/**
 * A chapter's module as a worker loads it: "defs" as another chapter imports it, "run" as its own
 * units load it (modules.ts `compile`, `?defs` and `?units`, with the same transpile options and
 * cache, so the build's compiler then finds these in the cache).
 */
export function chapterLoad(root: string, abs: string, ex: Extract, mode: "defs" | "run", transpileDir: string | null): ChapterLoad {
  const { out, code } = emit(tangle(ex, mode, runtimeSpecifier(root, abs)), abs + ".ts", mode === "run", transpileDir);
  const chapters = [...new Set([...code.matchAll(/\brequire\("([^"]*\.md)"\)/g)].map((m) => m[1]!))].sort();
  return { loads: !out.syntaxError && !SES_DIRECT_EVAL.test(code) && !SES_IMPORT.test(code) && compiles(code), chapters };
}

function compiles(code: string): boolean {
  try {
    // Parsed, never called: the worker's wrapper with every parameter it may have.
    new Function(...MODULE_PARAMS, ...FAST_GLOBALS, code);
    return true;
  } catch {
    return false;
  }
}
