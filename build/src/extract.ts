// Stage 1: find every ```ts fence of a chapter with markdown-it, keeping each block's exact
// Markdown lines, so every later stage can point back at `chapter.md:line:col`.

import MarkdownIt from "markdown-it";
import { parseFenceOptions, type BlockFlags } from "./fence-options.ts";
import type { Diagnostic } from "./diagnostic.ts";

export interface Block {
  /** Explicit `id=…`, else `<chapter>-L<line>`. Unique within a chapter. */
  id: string;
  /** 1-based Markdown line of the opening fence. */
  fenceLine: number;
  /** 1-based Markdown line of the closing fence (the last line of the chapter when unclosed). */
  endLine: number;
  /** 1-based Markdown line of the first code line (fenceLine + 1). */
  codeLine: number;
  /** The code as markdown-it gives it: container prefixes (`> `, list indent) removed. */
  code: string;
  /**
   * For each code line, how many Markdown columns precede the code text: the fence's indent or
   * a block quote's `> `. A TypeScript column c is Markdown column c + colOffset[i].
   * Invariant: colOffset.length === number of code lines.
   */
  colOffset: number[];
  flags: BlockFlags;
  /** The fence's info string as written, e.g. `ts id=C00.2 test`. */
  info: string;
}

export interface Extract {
  /** Project-relative path, forward slashes. */
  file: string;
  /** File name without `.md`: the default id prefix. */
  chapter: string;
  /** Total Markdown lines (CRLF, CR and LF all end a line). */
  lineCount: number;
  blocks: Block[];
  diagnostics: Diagnostic[];
}

const md = new MarkdownIt("commonmark");

/** Splits like markdown-it does: `\r\n`, `\r` and `\n` each end a line. */
export function splitLines(src: string): string[] {
  return src.split(/\r\n|\r|\n/);
}

function isTsInfo(info: string): boolean {
  return /^ts(\s|$)/.test(info.trim());
}

/**
 * Languages an author may mean as "TypeScript that runs". They are an error, not a synonym: one
 * spelling keeps `grep '```ts'`, the fence options and the page's highlighting in step, and a
 * `js` or `tsx` fence may just as well be a listing meant only to be shown, which must not start
 * running (strictly type-checked as TypeScript) because of a guess.
 */
export const NOT_TS = ["typescript", "tsx", "mts", "cts", "js", "javascript", "jsx", "mjs", "cjs"] as const;

export function extract(file: string, src: string): Extract {
  const chapter = file.replace(/^.*\//, "").replace(/\.md$/, "");
  const lines = splitLines(src);
  const out: Extract = { file, chapter, lineCount: lines.length, blocks: [], diagnostics: [] };
  const seen = new Map<string, number>();
  const err = (line: number, col: number, code: string, message: string) =>
    out.diagnostics.push({ file, line, col, stage: "extract", code, message });

  for (const tok of md.parse(src, {})) {
    if (tok.type !== "fence" || !tok.map) continue;
    const lang = /^\S*/.exec(tok.info.trim())![0];
    if ((NOT_TS as readonly string[]).includes(lang.toLowerCase()) || (lang !== "ts" && lang.toLowerCase() === "ts")) {
      const raw = lines[tok.map[0]] ?? "";
      err(tok.map[0] + 1, raw.indexOf(lang) + 1, "fence-language",
        `a ${tok.markup}${lang} fence is not a block: it is neither type-checked nor run; write ${tok.markup}ts to run it, or ${tok.markup}text to only show it`);
      continue;
    }
    if (!isTsInfo(tok.info)) continue;
    const fenceLine = tok.map[0] + 1;
    const codeLines = tok.content === "" ? [] : tok.content.replace(/\n$/, "").split("\n");
    // markdown-it maps a closed fence to [open, close + 1) and an unclosed one to
    // [open, end of its container); the difference of one line tells them apart.
    const closed = tok.map[1] - tok.map[0] - 2 === codeLines.length;
    // 1-based: the closing fence line, or the container's last line when unclosed.
    const endLine = tok.map[1];
    const rawFence = lines[tok.map[0]] ?? "";
    const infoCol = rawFence.indexOf(tok.info.trim()) + 1;
    const info = tok.info.trim();
    const rest = info.slice(2);
    const parsed = parseFenceOptions(rest);
    for (const e of parsed.errors) err(fenceLine, infoCol + 2 + e.offset, "fence-option", e.message);
    if (!closed) {
      err(fenceLine, Math.max(1, infoCol - tok.markup.length), "unclosed-fence",
        `this ${tok.markup} fence is never closed, so the rest of the chapter would be read as code; add a closing ${tok.markup} line`);
    }
    const id = parsed.id ?? `${chapter}-L${fenceLine}`;
    const first = seen.get(id);
    if (first !== undefined) {
      err(fenceLine, infoCol, "duplicate-id", `block id "${id}" is already used by the block at line ${first}; ids must be unique in a chapter`);
    } else {
      seen.set(id, fenceLine);
    }
    const colOffset = codeLines.map((c, i) => {
      const raw = lines[tok.map![0] + 1 + i] ?? "";
      return c.length > 0 && raw.endsWith(c) ? raw.length - c.length : 0;
    });
    out.blocks.push({
      id, fenceLine, endLine, codeLine: fenceLine + 1,
      code: codeLines.join("\n"), colOffset, flags: parsed.flags, info,
    });
  }
  return out;
}
