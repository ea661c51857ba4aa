// The closing chapter's table: one row per sentence under test, its key claims' verdicts in
// 2018 and now, whom the evidence supports and what settled it. It is computed from the
// chapters' `<!-- book: sentence … -->` directives and results.json and holds no verdict of its
// own; a key claim without a result, without evidence, or decided only by sampling, fails the
// build at the directive's line.

import path from "node:path";
import type { Diagnostic } from "./diagnostic.ts";
import type { Directive } from "./directives.ts";
import { claimsIn, type ClaimRecord, type Located } from "./claim-view.ts";
import { blockAnchor } from "./anchors.ts";
import { escapeHtml as esc } from "./escape.ts";
import type { ChapterResult } from "./results.ts";
import { evidenceBrief, kernelsOf } from "./evidence-view.ts";

export interface ScoreInput { result: ChapterResult; src: string; directives: Directive[] }

type Found = Located;

/** Claims by id; a block may decide several claims under one id (one per design or scenario). */
function claimsById(r: ChapterResult): Map<string, Found[]> {
  const out = new Map<string, Found[]>();
  for (const f of claimsIn([r])) if (f.c.id) out.set(f.c.id, [...(out.get(f.c.id) ?? []), f]);
  return out;
}

/** The era a claim speaks of: its label, else its id's suffix (`C03.2-2018`). */
export function eraOf(c: ClaimRecord): string {
  return c.labels?.era ?? (/-(2018|now)\b/.exec(c.id ?? "")?.[1] ?? "?");
}

/** The chapter's quoted sentence: the first block-quote line that opens with a quotation mark. */
export function sentenceOf(src: string): string {
  const m = /^>\s*["“](.+?)["”]/m.exec(src);
  return m ? m[1]! : "";
}

const sentenceDirective = (i: ScoreInput) => i.directives.find((d) => d.name === "sentence");
const isArgumentChapter = (file: string) => /^(0[1-9]|1[0-3])-/.test(path.basename(file));

export function scoreboardDiagnostics(inputs: ScoreInput[]): Map<string, Diagnostic[]> {
  const out = new Map<string, Diagnostic[]>();
  const add = (file: string, d: Diagnostic) => out.set(file, [...(out.get(file) ?? []), d]);
  const board = inputs.find((i) => i.directives.some((d) => d.name === "scoreboard"));
  for (const i of inputs) {
    const file = i.result.file;
    const dir = sentenceDirective(i);
    if (!dir) {
      if (board && isArgumentChapter(file)) {
        const at = board.directives.find((d) => d.name === "scoreboard")!;
        add(board.result.file, { file: board.result.file, line: at.line, col: 1, stage: "render", code: "scoreboard", message: `${file} has no "book: sentence" directive, so the scoreboard has no row for it; add one under its quoted sentence` });
      }
      continue;
    }
    const found = claimsById(i.result);
    const keys = (dir.attrs.key ?? "").split(/\s+/).filter(Boolean);
    if (keys.length === 0) add(file, { file, line: dir.line, col: 1, stage: "render", code: "scoreboard", message: `"book: sentence" needs key="…" naming the claims that decide the sentence` });
    const decided = new Set<string>();
    const eras = new Set<string>();
    for (const k of keys) {
      const fs = found.get(k);
      if (!fs) {
        add(file, { file, line: dir.line, col: 1, stage: "render", code: "scoreboard", message: `key claim "${k}" has no result in this chapter; fix the key or make the claim run` });
        continue;
      }
      for (const f of fs) {
        eras.add(eraOf(f.c));
        // The scoreboard shows each key claim's evidence; one without it would read "no evidence".
        if (!f.c.evidence) add(file, { file, line: dir.line, col: 1, stage: "render", code: "scoreboard", message: `key claim "${k}" (${f.c.title}) has no evidence, so the scoreboard cannot say which kernels its verdict holds for; give its claim() evidence: { kernels: [...], commits: [...] } (or analysis: [...])` });
        if (f.c.coverage.kind === "exhaustive" || f.c.coverage.kind === "bounded") decided.add(eraOf(f.c));
      }
    }
    for (const e of eras) {
      if (!decided.has(e)) add(file, { file, line: dir.line, col: 1, stage: "render", code: "scoreboard", message: `no key claim of era "${e}" was decided by an exhaustive or bounded search; sampling cannot settle the sentence` });
    }
  }
  return out;
}

/** A verdict; a Never/Always decided within a preemption bound is dashed and says its bound. */
function verdict(c: ClaimRecord): string {
  const k = c.coverage.kind === "bounded" && (c.observed === "Never" || c.observed === "Always") ? c.coverage.preemptions : null;
  return k === null
    ? `<span class="book-verdict book-verdict-${esc(c.observed)}">${esc(c.observed)}</span>`
    : `<span class="book-verdict book-verdict-${esc(c.observed)} book-bounded" title="decided within ${k} preemptions only: evidence, not a proof">${esc(c.observed)} ≤ ${k}</span>`;
}

export function scoreboardTable(inputs: ScoreInput[]): string {
  const rows = ["| Chapter | Sentence under test | 2018 | now | Kernels | Evidence supports | Settled by |", "|---|---|---|---|---|---|---|"];
  for (const i of inputs) {
    const dir = sentenceDirective(i);
    if (!dir) continue;
    const found = claimsById(i.result);
    const page = path.basename(i.result.file);
    const keyed = (era: string) => (dir.attrs.key ?? "").split(/\s+/).filter(Boolean)
      .flatMap((k) => found.get(k) ?? []).filter((f) => eraOf(f.c) === era);
    const cells = (era: string) => keyed(era)
      .map((f) => `[${esc(f.c.id!)}](${page}#${blockAnchor(f.blockId)}-claim${f.index}) ${verdict(f.c)}${f.c.pass ? "" : " ✗"} ${evidenceBrief(f.c.evidence)}`).join("<br>") || "—";
    // Which kernels the sentence's reading applies to, era by era: the union of its key claims' evidence.
    const kernels = ["2018", "now"].map((era) => [era, kernelsOf(keyed(era).map((f) => f.c.evidence))] as const)
      .filter(([, ks]) => ks.length > 0).map(([era, ks]) => `${era}: ${ks.map(esc).join(", ")}`).join("<br>") || "—";
    const sentence = sentenceOf(i.src).replace(/\|/g, "\\|");
    rows.push(`| [${i.result.title.replace(/\|/g, "\\|")}](${page}) | “${esc(sentence)}” | ${cells("2018")} | ${cells("now")} | ${kernels} | ${esc(dir.attrs.supports ?? "")} | ${esc(dir.attrs.settled ?? "")} |`);
  }
  return rows.join("\n");
}
