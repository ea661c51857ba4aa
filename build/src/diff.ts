// What a change flipped: compare two results.json files claim by claim. A doc PR shows this
// list in the terminal, as a page, and as a banner on each chapter it affected.

import type { Results } from "./results.ts";
import { claimsIn, type ClaimRecord } from "./claim-view.ts";

export interface ClaimState { observed: string; expected: string; pass: boolean; coverage: string; token: string | null }

export interface Change {
  file: string;
  blockId: string;
  /** The claim's id, or its title when it has none. */
  claim: string;
  title: string;
  what: ("verdict" | "coverage" | "witness" | "added" | "removed")[];
  before: ClaimState | null;
  after: ClaimState | null;
  /** The observed verdict changed and the claim now fails: the change did something nobody expected. */
  unexpected: boolean;
}

function coverageKey(c: ClaimRecord): string {
  const v = c.coverage;
  if (v.kind === "exhaustive") return `exhaustive(${v.reduction})`;
  if (v.kind === "bounded") return `bounded(≤${v.preemptions})`;
  if (v.kind === "replay") return `replay(${v.token})`;
  return `sampled(${v.strategy}, ${v.runs} runs, seed ${v.seed})`;
}

function claimsOf(r: Results): Map<string, { file: string; blockId: string; c: ClaimRecord }> {
  // A block may decide several claims under one id (one per era or design): key by position.
  return new Map(claimsIn(r.chapters).map(({ chapter, blockId, index, c }) => {
    const name = c.id && index === 0 ? c.id : `${c.id ?? blockId}#${index + 1}`;
    return [`${chapter.file}\0${blockId}\0${name}`, { file: chapter.file, blockId, c }];
  }));
}

const state = (c: ClaimRecord): ClaimState => ({ observed: c.observed, expected: c.expected, pass: c.pass, coverage: coverageKey(c), token: c.witness?.token ?? null });

export function diffResults(base: Results, head: Results): Change[] {
  const a = claimsOf(base);
  const b = claimsOf(head);
  const changes: Change[] = [];
  for (const key of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(key);
    const y = b.get(key);
    const any = (y ?? x)!;
    const name = key.split("\0")[2]!;
    const what: Change["what"] = [];
    if (!x) what.push("added");
    else if (!y) what.push("removed");
    else {
      if (x.c.observed !== y.c.observed) what.push("verdict");
      if (coverageKey(x.c) !== coverageKey(y.c)) what.push("coverage");
      if ((x.c.witness?.token ?? null) !== (y.c.witness?.token ?? null)) what.push("witness");
    }
    if (what.length === 0) continue;
    changes.push({
      file: any.file, blockId: any.blockId, claim: name, title: any.c.title, what,
      before: x ? state(x.c) : null, after: y ? state(y.c) : null,
      unexpected: !!y && !y.c.pass && (!x || x.c.observed !== y.c.observed),
    });
  }
  return changes.sort((p, q) => (p.file + p.claim).localeCompare(q.file + q.claim));
}

export function changeLine(c: Change): string {
  const v = (s: ClaimState | null) => (s ? s.observed : "—");
  const tag = c.unexpected ? "UNEXPECTED " : "";
  return `${tag}${c.file} ${c.claim}: ${c.what.join(", ")}: ${v(c.before)} → ${v(c.after)}${c.after && !c.after.pass ? ` (expected ${c.after.expected})` : ""}  — ${c.title}`;
}
