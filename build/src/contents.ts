// The book's table of contents, `chapters/contents.txt`: every chapter in reading order, and the
// key claims of each scoreboard sentence. The chapters say what they hold; this file says what
// the book must hold, so that a chapter or a key claim that goes missing fails the build instead
// of leaving a scoreboard that is green because it no longer looks (deleting chapter 12 once
// gave "216 passed, 0 failed"). Removing a chapter or a key claim on purpose means removing its
// line here too, in the same change, where a reviewer sees it.
//
// The format, one chapter a line (a line that starts with white space continues the key claims
// of the chapter above it; `#` starts a comment):
//
//     01-the-slow-path-and-the-retry-loop.md
//         C01.1-2018 C01.2-2018 C01.2-now
//
// Why not mkdocs.yml's `nav`: it lists generated pages (docs/generated/), has no place for key
// claims, and the fixture books inherit mkdocs.yml, so a book-specific nav would break their sites.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Diagnostic } from "./diagnostic.ts";
import { splitLines } from "./extract.ts";
import type { ScoreInput } from "./scoreboard.ts";
import { claimsIn } from "./claim-view.ts";

export const CONTENTS_FILE = "contents.txt";

interface Word { text: string; line: number; col: number }
export interface Entry extends Word { keys: Word[] }
export interface Contents { file: string; entries: Entry[]; diagnostics: Diagnostic[] }

export function parseContents(file: string, src: string): Contents {
  const out: Contents = { file, entries: [], diagnostics: [] };
  splitLines(src).forEach((raw, i) => {
    const text = raw.replace(/#.*$/, "");
    const words = [...text.matchAll(/\S+/g)].map((m) => ({ text: m[0], line: i + 1, col: m.index + 1 }));
    if (words.length === 0) return;
    const last = out.entries.at(-1);
    if (/^\s/.test(text)) {
      if (last) last.keys.push(...words);
      else out.diagnostics.push({ file, line: i + 1, col: words[0]!.col, stage: "extract", code: "contents", message: `key claims before the first chapter; put a chapter's file name on the line above them` });
      return;
    }
    const [name, ...keys] = words;
    if (!name!.text.endsWith(".md") || name!.text.includes("/")) {
      out.diagnostics.push({ file, line: i + 1, col: 1, stage: "extract", code: "contents", message: `"${name!.text}" is not a chapter's file name (NN-slug.md, without a folder); indent key claims to continue the chapter above` });
      return;
    }
    const twice = out.entries.find((e) => e.text === name!.text);
    if (twice) {
      out.diagnostics.push({ file, line: i + 1, col: 1, stage: "extract", code: "contents", message: `${name!.text} is already listed at line ${twice.line}; list each chapter once` });
      return;
    }
    out.entries.push({ ...name!, keys });
  });
  return out;
}

/**
 * Checks the book against its table of contents. Problems with a listed chapter or key claim are
 * reported at the contents file's line; a chapter that is not listed, at its own first line. The
 * map is keyed by the chapter whose result carries the diagnostic: the scoreboard's chapter for
 * the contents file's own lines (its page shows them), the chapter itself otherwise.
 */
export function contentsDiagnostics(root: string, chaptersDir: string, inputs: readonly ScoreInput[]): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  const add = (owner: string, d: Diagnostic) => out.set(owner, [...(out.get(owner) ?? []), d]);
  const board = inputs.find((i) => i.directives.some((d) => d.name === "scoreboard")) ?? inputs.at(-1);
  if (!board) return out;
  const owner = board.result.file;
  const abs = path.join(chaptersDir, CONTENTS_FILE);
  const file = path.relative(root, abs).split(path.sep).join("/");
  if (!existsSync(abs)) {
    // Only a book with a scoreboard must have one: the fixture books do not.
    const at = board.directives.find((d) => d.name === "scoreboard");
    if (at) add(owner, { file: owner, line: at.line, col: 1, stage: "render", code: "contents", message: `the book has a scoreboard but no table of contents ${file}; write one (one chapter a line, then its key claims; see build/README.md)` });
    return out;
  }
  const toc = parseContents(file, readFileSync(abs, "utf8"));
  for (const d of toc.diagnostics) add(owner, d);
  const err = (w: Word, code: string, message: string) => add(owner, { file, line: w.line, col: w.col, stage: "render", code, message });
  const byName = new Map(inputs.map((i) => [path.basename(i.result.file), i]));
  const dir = path.relative(root, chaptersDir).split(path.sep).join("/") + "/";

  let previous: Entry | undefined;
  for (const e of toc.entries) {
    const i = byName.get(e.text);
    if (!i) {
      err(e, "contents-missing-chapter", `${dir}${e.text} is in the table of contents but not in the book; restore it, or delete this line and its key claims if the chapter is gone on purpose`);
      continue;
    }
    if (previous && previous.text > e.text) {
      err(e, "contents-order", `${e.text} is listed after ${previous.text} (line ${previous.line}), but the book is read in file-name order; list the chapters in that order`);
    }
    previous = e;
    const sentence = i.directives.find((d) => d.name === "sentence");
    const listed = (sentence?.attrs.key ?? "").split(/\s+/).filter(Boolean);
    if (!sentence && e.keys.length > 0) {
      err(e, "contents-key", `${e.text} has no "book: sentence" directive, so its listed key claims decide nothing; add the directive with key="${e.keys.map((k) => k.text).join(" ")}"`);
      continue;
    }
    const where = sentence ? `${i.result.file}:${sentence.line}` : "";
    for (const k of listed.filter((k) => !e.keys.some((w) => w.text === k))) {
      err(e, "contents-key", `the sentence at ${where} names key claim ${k}, which the table of contents does not list for ${e.text}; add it here`);
    }
    // A chapter that failed before running has no claims at all; its own error says why.
    const ran = i.result.diagnostics.length === 0;
    const found = new Set(claimsIn([i.result]).map((f) => f.c.id));
    for (const k of e.keys) {
      if (!listed.includes(k.text)) {
        err(k, "contents-key", `key claim ${k.text} is not in the key of the sentence at ${where}; add it there, or delete it here if it stopped deciding the sentence`);
      } else if (ran && !found.has(k.text)) {
        err(k, "contents-missing-claim", `key claim ${k.text} has no result in ${i.result.file}; restore the claim or fix its id, or delete it here and from the sentence's key on purpose`);
      }
    }
  }
  for (const i of inputs) {
    const name = path.basename(i.result.file);
    if (toc.entries.some((e) => e.text === name)) continue;
    add(i.result.file, { file: i.result.file, line: 1, col: 1, stage: "render", code: "contents-unlisted", message: `${name} is not in the table of contents ${file}; add a line for it there, in reading order, with the key claims of its sentence` });
  }
  return out;
}
