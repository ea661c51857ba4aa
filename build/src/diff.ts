// What a change flipped: compare two results.json files claim by claim. A doc PR shows this
// list in the terminal, as a page, and as a banner on each chapter it affected.

import type { Results } from "./results.ts";
import { claimsIn, type ClaimRecord } from "./claim-view.ts";

export interface ClaimState { observed: string; expected: string; pass: boolean; coverage: string; token: string | null; evidence: string }

export interface Change {
  file: string;
  blockId: string;
  /** The claim's id, or its title when it has none. */
  claim: string;
  title: string;
  /** "not-run": the claim is still in the chapter, but its block failed before it ran. */
  what: ("verdict" | "coverage" | "witness" | "evidence" | "added" | "removed" | "not-run")[];
  before: ClaimState | null;
  after: ClaimState | null;
  /** The observed verdict changed and the claim now fails: the change did something nobody expected. */
  unexpected: boolean;
}

function coverageKey(c: ClaimRecord): string {
  const v = c.coverage;
  if (v.kind === "exhaustive") return `exhaustive(${v.reduction}${v.footprints === "fields" ? ", field footprints" : ""})`;
  if (v.kind === "bounded") return `bounded(≤${v.preemptions})`;
  if (v.kind === "replay") return `replay(${v.token})`;
  return `sampled(${v.strategy}, ${v.runs} runs, seed ${v.seed})`;
}

function claimsOf(r: Results): Map<string, { file: string; blockId: string; c: ClaimRecord; name: string }> {
  // A block may decide several claims under one id (one per era or design). They are matched by
  // id and title, not by position, so a claim inserted in the middle of a block does not look
  // like a flip of the claims after it; the n-th repeat of the same id and title is its own key.
  const seen = new Map<string, number>();
  return new Map(claimsIn(r.chapters).map(({ chapter, blockId, index, c }) => {
    const who = `${chapter.file}\0${blockId}\0${c.id ?? blockId}\0${c.title}`;
    const n = (seen.get(who) ?? 0) + 1;
    seen.set(who, n);
    const name = c.id && index === 0 ? c.id : `${c.id ?? blockId}#${index + 1}`;
    return [`${who}\0${n}`, { file: chapter.file, blockId, c, name }];
  }));
}

/** The evidence in one line: "v4.16 aa56a292ce62 analysis:mm/gup.c", "" for none. */
function evidenceKey(c: ClaimRecord): string {
  const e = c.evidence;
  return e ? [...e.kernels, ...(e.commits ?? []).map((x) => x.id), ...(e.analysis ?? []).map((f) => `analysis:${f}`)].join(" ") : "";
}

const state = (c: ClaimRecord): ClaimState => ({ observed: c.observed, expected: c.expected, pass: c.pass, coverage: coverageKey(c), token: c.witness?.token ?? null, evidence: evidenceKey(c) });

/** Blocks of `r` that exist but did not finish: their later claims did not run. */
function unfinishedBlocks(r: Results): Set<string> {
  const out = new Set<string>();
  for (const c of r.chapters) for (const b of c.blocks) if (b.status !== "passed" && b.status !== "skipped") out.add(`${c.file}\0${b.id}`);
  return out;
}

export function diffResults(base: Results, head: Results): Change[] {
  const a = claimsOf(base);
  const b = claimsOf(head);
  const unfinished = unfinishedBlocks(head);
  const changes: Change[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const any = (y ?? x)!;
    const name = any.name;
    const what: Change["what"] = [];
    if (!x) what.push("added");
    else if (!y) what.push(unfinished.has(`${x.file}\0${x.blockId}`) ? "not-run" : "removed");
    else {
      if (x.c.observed !== y.c.observed) what.push("verdict");
      if (coverageKey(x.c) !== coverageKey(y.c)) what.push("coverage");
      if ((x.c.witness?.token ?? null) !== (y.c.witness?.token ?? null)) what.push("witness");
      if (evidenceKey(x.c) !== evidenceKey(y.c)) what.push("evidence");
    }
    if (what.length === 0) continue;
    changes.push({
      file: any.file, blockId: any.blockId, claim: name, title: any.c.title, what,
      before: x ? state(x.c) : null, after: y ? state(y.c) : null,
      unexpected: (!!y && !y.c.pass && (!x || x.c.observed !== y.c.observed)) || what.includes("not-run"),
    });
  }
  return changes.sort((p, q) => (p.file + p.claim).localeCompare(q.file + q.claim));
}

export function changeLine(c: Change): string {
  const v = (s: ClaimState | null) => (s ? s.observed : c.what.includes("not-run") ? "did not run" : "—");
  const tag = c.unexpected ? "UNEXPECTED " : "";
  const ev = c.what.includes("evidence") ? ` [evidence: ${c.before?.evidence || "none"} → ${c.after?.evidence || "none"}]` : "";
  return `${tag}${c.file} ${c.claim}: ${c.what.join(", ")}: ${v(c.before)} → ${v(c.after)}${c.after && !c.after.pass ? ` (expected ${c.after.expected})` : ""}${ev}  — ${c.title}`;
}

/** The changes as a Markdown table, for a CI job summary ($GITHUB_STEP_SUMMARY). */
export function changesMarkdown(changes: readonly Change[], baseLabel: string): string {
  if (changes.length === 0) return `### Verdicts against ${baseLabel}\n\nNo claim changed.\n`;
  const v = (s: ClaimState | null, c: Change) => (s ? s.observed : c.what.includes("not-run") ? "did not run" : "—");
  const cell = (t: string) => t.replace(/\|/g, "\\|");
  const rows = changes.map((c) => `| ${c.unexpected ? "**unexpected**" : ""} | \`${cell(c.file)}\` | ${cell(c.claim)} | ${c.what.join(", ")} | ${v(c.before, c)} → ${v(c.after, c)} | ${cell(c.title)} |`);
  const bad = changes.filter((c) => c.unexpected).length;
  return [
    `### Verdicts against ${baseLabel}`, "",
    `${changes.length} claim(s) changed${bad ? `, ${bad} unexpectedly (the chapter does not expect the new verdict, or the claim did not run)` : ""}.`, "",
    "| | chapter | claim | what | verdict | title |", "|---|---|---|---|---|---|", ...rows, "",
  ].join("\n");
}
