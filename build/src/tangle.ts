// Stage 2: turn a chapter into one TypeScript module whose line N is Markdown line N.
//
// Every line outside a ```ts fence becomes empty, so stack traces, vitest's failure frames and
// type errors land on the chapter's own lines with no source map of ours. The only code we add
// sits on lines that would otherwise be empty: the runtime import on line 1, and a test
// wrapper's opening and closing on the fence lines of a `test` block.

import type { Block, Extract } from "./extract.ts";

export type TangleMode =
  /** The chapter is the test file: every block runs, test blocks register vitest tests. */
  | "run"
  /** Another chapter imports it: definitions only, so its tests are not registered twice. */
  | "defs"
  /**
   * One work unit of the run stage (run.ts): every definition, and of the test blocks only the
   * one named (none for `null`). A unit's cache key is this text (hash.ts `unitHash`). What a
   * worker runs is the chapter in "run" mode, of whose test blocks it runs only the unit's own
   * (sandbox/modules.ts `bundleOf`: one transpile per chapter); this mode remains the fallback
   * for a chapter that does not parse.
   */
  | { unit: string | null };

/** The namespace the tangled module gives the runtime; chapters must not use this name. */
export const RUNTIME_NS = "__book";

/** The blocks a mode's module holds, in chapter order. */
function blocksOf(ex: Extract, mode: TangleMode) {
  return ex.blocks.filter((b) => !(b.flags.test && (mode === "defs" || (typeof mode === "object" && b.id !== mode.unit))));
}

export function tangle(ex: Extract, mode: TangleMode, runtimeSpecifier: string): string {
  const out: string[] = new Array(ex.lineCount).fill("");
  for (const b of blocksOf(ex, mode)) {
    const code = b.code === "" ? [] : b.code.split("\n");
    code.forEach((l, i) => (out[b.codeLine - 1 + i] = l));
    if (b.flags.test) {
      const opts = JSON.stringify({ line: b.fenceLine, skip: b.flags.skip, fails: b.flags.fails });
      out[b.fenceLine - 1] = `${RUNTIME_NS}.test(${JSON.stringify(b.id)}, ${opts}, async () => {`;
      out[b.endLine - 1] = `});`;
    }
  }
  const prelude = `import * as ${RUNTIME_NS} from ${JSON.stringify(runtimeSpecifier)};`;
  // Line 1 is never a code line: it is prose or an opening fence, so it has room for the import.
  out[0] = out[0] ? `${prelude} ${out[0]}` : prelude;
  return out.join("\n");
}

/**
 * What `tangle` gives the module, without where it sits: each block's code in order, a test block
 * with its id and flags. Two chapters whose modules differ only in the lines between their blocks
 * (prose added or removed) have the same content and run the same; only line numbers in what they
 * report (failure frames, a test's fence line) differ (hash.ts `unitHash`, pipeline.ts).
 * A definition's default id names its line, so it is left out.
 */
export function tangleContent(ex: Extract, mode: TangleMode, runtimeSpecifier: string): string {
  return [runtimeSpecifier, ...blocksOf(ex, mode).map((b) => (b.flags.test ? testContent(b) : definitionContent(b.code)))].join("\0");
}

/** A test block as content: its id and flags, which the wrapper gives the runtime, and its code. */
export const testContent = (b: Block): string => `test ${JSON.stringify({ id: b.id, skip: b.flags.skip, fails: b.flags.fails })}\n${b.code}`;
/** Definition code as content. */
export const definitionContent = (code: string): string => `definition\n${code}`;

/** Maps a tangled (line, column), both 1-based, to the Markdown column on the same line. */
export function markdownColumn(ex: Extract, line: number, col: number): number {
  for (const b of ex.blocks) {
    const i = line - b.codeLine;
    if (i >= 0 && i < b.colOffset.length) return col + b.colOffset[i]!;
  }
  return col;
}

/** The block whose fence lines enclose a Markdown line, if any. */
export function blockAt(ex: Extract, line: number) {
  return ex.blocks.find((b) => line >= b.fenceLine && line <= b.endLine);
}
