// Warnings: things a reader should know about a chapter that do not make it fail. Today one kind:
// a chapter that checks nothing (empty, or prose without a single ```ts block). It passes with
// "0 passed, 0 failed", which says nothing, so the terminal and its page say why.

import { formatWarning, type Diagnostic } from "./diagnostic.ts";
import type { Directive } from "./directives.ts";
import type { Extract } from "./extract.ts";
import type { ChapterResult } from "./results.ts";
import { escapeHtml } from "./escape.ts";

export function chapterWarnings(ex: Extract, src: string, directives: readonly Directive[]): Diagnostic[] {
  const at = { file: ex.file, line: 1, col: 1, stage: "extract" } as const;
  if (src.trim() === "") {
    return [{ ...at, code: "empty-chapter", message: "the chapter is empty, so it has no title and checks nothing; write it, or delete the file" }];
  }
  // A chapter whose body is generated from the results (the scoreboard) needs no blocks of its own.
  if (ex.blocks.length === 0 && !directives.some((d) => d.name === "scoreboard")) {
    return [{ ...at, code: "no-blocks", message: "the chapter has no ```ts block, so nothing in it is checked; add a block that states its claim, or fold its prose into a chapter that has one" }];
  }
  return [];
}

/** The page's warning box (mkdocs-material's admonition style): one greppable line a warning. */
export function warningsHtml(ch: ChapterResult): string {
  const ws = ch.warnings ?? [];
  if (ws.length === 0) return "";
  const text = ws.map(formatWarning).join("\n");
  return `<div class="admonition warning book-chapter-warning" data-status="warning"><p class="admonition-title">This chapter checks nothing.</p>` +
    `<pre class="book-warning" style="white-space: pre-wrap">${escapeHtml(text).replace(/\n/g, "&#10;")}</pre></div>\n\n`;
}
