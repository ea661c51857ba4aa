// `<!-- book: NAME key="value" … -->` lines: instructions to the tools that never show on the
// page. Known names and their attributes are listed here; anything else is an error at its line.

import type { Diagnostic } from "./diagnostic.ts";
import { splitLines } from "./extract.ts";

export interface Directive { line: number; name: string; attrs: Record<string, string> }

/** name → allowed attributes. */
export const DIRECTIVES: Record<string, readonly string[]> = {
  /** A free comment for authors and reviewers. */
  note: [],
  /**
   * Marks an argument chapter's sentence under test for the scoreboard: `key` lists the claim ids
   * that decide it, `supports` whom the evidence supports, `settled` the commits that settled it.
   */
  sentence: ["key", "supports", "settled"],
  /** Where the closing chapter's scoreboard table goes. */
  scoreboard: [],
};

const LINE = /^\s*<!--\s*book:\s*([a-z-]+)(.*?)-->\s*$/;
const ATTR = /([a-z-]+)="([^"]*)"/g;

export function parseDirectives(file: string, src: string): { directives: Directive[]; diagnostics: Diagnostic[] } {
  const directives: Directive[] = [];
  const diagnostics: Diagnostic[] = [];
  splitLines(src).forEach((text, i) => {
    const m = LINE.exec(text);
    if (!m) return;
    const name = m[1]!;
    const line = i + 1;
    const col = text.indexOf("book:") + 1;
    const allowed = DIRECTIVES[name];
    if (!allowed) {
      diagnostics.push({ file, line, col, stage: "extract", code: "directive", message: `unknown directive "book: ${name}" (known: ${Object.keys(DIRECTIVES).join(", ")})` });
      return;
    }
    const attrs: Record<string, string> = {};
    for (const a of m[2]!.matchAll(ATTR)) {
      if (name !== "note" && !allowed.includes(a[1]!)) {
        diagnostics.push({ file, line, col, stage: "extract", code: "directive", message: `"book: ${name}" has no attribute "${a[1]}" (it takes ${allowed.join(", ") || "none"})` });
      }
      attrs[a[1]!] = a[2]!;
    }
    directives.push({ line, name, attrs });
  });
  return { directives, diagnostics };
}
