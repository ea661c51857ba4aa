// How a claim recorded by a block is shown on its page: the verdict badge with its coverage in
// words, and for a witness the swimlane, the trace as text, and the replay command.

import { formatDeadlock, type ClaimResult, type Coverage, type DeadlockData, type Finding, type TraceEvent } from "../../lib/explorer/index.ts";
import { escapeHtml as esc } from "./escape.ts";
import { evidenceHtml } from "./evidence-view.ts";
import type { ChapterResult } from "./results.ts";
import { swimlaneSvg } from "./swimlane.ts";
import type { BoundedWitness, Gap } from "./bound.ts";

export type ClaimRecord = ClaimResult & { type: "claim" };

export function isClaim(r: unknown): r is ClaimRecord {
  return !!r && typeof r === "object" && (r as { type?: unknown }).type === "claim";
}

/** A claim with where it was decided: its chapter, its block, its position among that block's claims. */
export interface Located { chapter: ChapterResult; blockId: string; index: number; c: ClaimRecord }

/** Every claim recorded in these chapters, in reading order. */
export function claimsIn(chapters: readonly ChapterResult[]): Located[] {
  const out: Located[] = [];
  for (const chapter of chapters) {
    for (const b of chapter.blocks) b.records.filter(isClaim).forEach((c, index) => out.push({ chapter, blockId: b.id, index, c }));
  }
  return out;
}

const num = (n: number) => n.toLocaleString("en-GB").replace(/,/g, " ");
const secs = (ms: number) => (ms < 100 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`);

/** What the predicate read (ClaimResult.reads): absent, every finding kind (nothing to say). */
const readsWords = (reads: readonly string[] | undefined): string =>
  reads === undefined ? "" : reads.length === 0 ? ", reading the final state only (no finding)" : `, reading only ${reads.join(", ")} findings`;

/** "exhaustive, source-DPOR, 1 284 executions, 0.4 s", "bounded: ≤ 2 preemptions, …", "sampled: …";
 *  a claim that declared `reads` says which findings its predicate read (the other oracles were off). */
export function coverageWords(c: Coverage, stats: { executions: number; ms: number }, complete: boolean, expected: string, observed: string, reads?: readonly string[], share?: { readonly sharedBy?: number; readonly searchedEarlier?: boolean }): string {
  // A claim decided by a search an earlier claim of its group ran (group.ts) has no time of its own.
  const n = share?.sharedBy ?? 1;
  const time = share?.searchedEarlier ? `the search of an earlier claim above, one for ${n} claims` : `${secs(stats.ms)}${n > 1 ? `, one search for ${n} claims` : ""}`;
  const tail = `${num(stats.executions)} execution${stats.executions === 1 ? "" : "s"}, ${time}`;
  let words: string;
  if (c.kind === "exhaustive") words = `exhaustive, ${c.reduction === "none" ? "no reduction" : c.reduction}${c.footprints === "fields" ? " over field footprints" : ""}${c.shard ? `, shard ${c.shard}` : ""}${readsWords(reads)}, ${tail}`;
  else if (c.kind === "bounded") words = `bounded: ≤ ${c.preemptions} preemption${c.preemptions === 1 ? "" : "s"}${readsWords(reads)}, ${tail}`;
  else if (c.kind === "replay") words = `replay of one execution (${c.token}): establishes no verdict`;
  else words = `sampled: ${num(c.runs)} ${c.strategy.toUpperCase()} runs, seed ${c.seed}${c.depth !== undefined ? `, depth ${c.depth}` : ""}, ${time}${expected !== "Sometimes" ? ` — cannot establish ${expected}` : ""}`;
  if (complete) return words;
  // Sometimes is settled by one execution of each kind; the search stops there on purpose.
  return observed === "Sometimes" ? `${words} (stopped once both outcomes were seen)` : `${words} — budget ran out: incomplete`;
}

/**
 * Findings that kernel engineers read as a lockdep splat: the explorer's deadlocks (the real
 * wait-for cycle) and any finding whose data carries a ready-made `splat` (the era's lockdep).
 */
export function splats(trace: readonly TraceEvent[], findings: readonly Finding[]): string[] {
  const out: string[] = [];
  for (const f of findings) {
    const data = f.data as { splat?: unknown } | undefined;
    if (data && typeof data.splat === "string") out.push(data.splat);
    else if (f.kind === "deadlock" && data) out.push(formatDeadlock(trace, f.data as DeadlockData));
  }
  return out;
}

/**
 * A deadlock ends with threads that never ran their blocking step, so the trace alone would not
 * show what they wait for. Adds one row per blocked thread at the finding's step, which the
 * swimlane highlights with the finding's headline.
 */
export function withBlockedRows(trace: readonly TraceEvent[], findings: readonly Finding[]): { trace: TraceEvent[]; findings: Finding[] } {
  const rows = [...trace];
  const out: Finding[] = [];
  for (const f of findings) {
    const d = f.data as DeadlockData | undefined;
    if (f.kind !== "deadlock" || !d) { out.push(f); continue; }
    const edges = d.cycle.length ? d.cycle : d.blocked;
    const step = (trace.at(-1)?.step ?? -1) + 1;
    for (const e of edges) {
      rows.push({ step, thread: e.thread, label: `${e.op} — blocked`, obj: e.waitsFor, kind: "blocked", held: [...e.holds], note: "" });
      out.push({ kind: "deadlock", message: `waits for ${e.waitsFor}${e.heldBy.length ? `, held by ${e.heldBy.join(", ")}` : ""}`, step, thread: e.thread });
    }
  }
  return { trace: rows, findings: out };
}

/**
 * The trace as text for the page: one line a step, unpadded. The terminal's aligned table
 * (formatTrace) pads every line to its longest label, which multiplies a page's weight. A cut
 * trace (bound.ts) says where events were left out.
 */
export function compactTrace(trace: readonly TraceEvent[], findings: readonly Finding[], gaps: readonly Gap[] = []): string {
  const gapAfter = new Map(gaps.map((g) => [g.after, g]));
  const lines: string[] = [];
  trace.forEach((e, i) => {
    const effect = e.kind === "choose" ? `choose = ${e.value}` : e.obj ? `${e.kind} ${e.obj}` : e.kind;
    lines.push(`${e.step} ${e.thread}: ${e.label}  [${effect}]${e.held.length ? `  holds {${e.held.join(", ")}}` : ""}${e.note && e.kind !== "choose" ? `  — ${e.note}` : ""}`);
    const g = gapAfter.get(i);
    if (g) lines.push(gapWords(g));
  });
  for (const f of findings) lines.push(`${f.kind.toUpperCase()}${f.thread ? ` in ${f.thread}` : ""} at step ${f.step}: ${f.message.split("\n")[0]}`);
  return lines.join("\n");
}

/** "… 99 700 steps left out (steps 151–99 850) …" */
export function gapWords(g: Gap): string {
  return `… ${num(g.count)} step${g.count === 1 ? "" : "s"} left out (steps ${num(g.firstStep)}–${num(g.lastStep)}) …`;
}

/** The command that replays exactly this witness. */
export function replayCommand(file: string, blockId: string, token: string): string {
  return `BOOK_REPLAY=${token} npm run -s chapter -- ${file} ${blockId}`;
}

/**
 * Writes a file next to the generated pages and returns its URL relative to the chapter's page;
 * long traces go there so that a page stays within its weight budget.
 */
export type Emit = (name: string, content: string | Uint8Array) => string;

/**
 * Inline at most this much trace text; a longer trace shows its ends and links the whole. The
 * swimlane above it already shows every step, so the excerpt is short: a page with thirty
 * witnesses (chapter 13) stays under the 1 MB every page is held to (test/site/book.spec.ts).
 */
export const INLINE_TRACE_BYTES = 2_500;
const TRACE_ENDS = 8;

const kib = (n: number) => `${num(Math.max(1, Math.round(n / 1024)))} KiB`;

/**
 * The text trace: inline when short; otherwise its first and last lines, and a link to the whole,
 * which is the compressed full trace for a witness that bound.ts cut (results.json keeps only its
 * ends), or the text itself as a side file.
 */
function traceHtml(w: BoundedWitness, anchor: string, cmd: string, emit?: Emit): string {
  const text = compactTrace(w.trace, w.findings, w.cut?.gaps);
  const block = (t: string) => `<pre class="book-trace">${esc(t).replace(/\n/g, "&#10;")}</pre>`;
  if (!w.cut && (text.length <= INLINE_TRACE_BYTES || !emit)) return block(text);
  const lines = text.split("\n");
  const shown = lines.length <= 2 * TRACE_ENDS + 1 ? text
    : [...lines.slice(0, TRACE_ENDS), `… ${num(lines.length - 2 * TRACE_ENDS)} more lines …`, ...lines.slice(-TRACE_ENDS)].join("\n");
  let link: string;
  if (w.cut) {
    const full = w.cut.full;
    const whole = full && emit
      ? `<a class="book-trace-full" href="${esc(emit(`${anchor}.txt.gz`, Buffer.from(full.data, "base64")))}" download>the whole trace (${num(full.lines)} lines, gzip, ${kib(full.bytes)})</a>`
      : `the whole trace was too large to keep; <code>${esc(cmd)}</code> prints it`;
    link = `${num(w.cut.total)} steps, of which ${num(w.cut.omitted)} are left out of this page and of results.json; the page shows the first and last lines: ${whole}.`;
  } else {
    link = `${num(lines.length)} lines; the page shows the first and last ${TRACE_ENDS}: <a href="${esc(emit!(`${anchor}.txt`, text))}">the whole trace</a>.`;
  }
  return `<p class="book-trace-link">${link}</p>${block(shown)}`;
}

/**
 * A witness's swimlane and its text trace stay on the page but out of the search index: they were
 * nine tenths of it (7 MB, December 2026), which every reader's browser fetches and indexes on
 * the first search, and a step named in them is named in the prose or code too. The markers are
 * comments, so a page built without build/mkdocs/unsearched.py (the hook that honours them) only
 * carries two extra comments per witness.
 */
export const unsearched = (html: string) => `<!--book:unsearched-->${html}<!--/book:unsearched-->`;

/** The URL (relative to a chapter's page) of the model code that produced a trace label, if known. */
export type LabelLink = (label: string) => string | null;

/**
 * The step a link to a witness lands on: the first step at which a finding was reported (for a
 * deadlock, the first blocked thread's row); a witness without findings was judged on its final
 * state, so its last step.
 */
export function firstInterestingStep(trace: readonly TraceEvent[], findings: readonly Finding[]): number | null {
  if (findings.length > 0) return Math.min(...findings.map((f) => f.step));
  return trace.at(-1)?.step ?? null;
}

/**
 * `states`: the witness's states (lib/explorer/state.ts) when its model has a view(); written as
 * a side file that the page's state panel fetches on the first click (book.js).
 */
export function claimHtml(file: string, blockId: string, c: ClaimRecord, anchor: string, emit?: Emit, link?: LabelLink, states?: unknown): string {
  const verdict = `<span class="book-verdict book-verdict-${esc(c.observed)}">${esc(c.observed)}</span>`;
  const head = `<div class="book-claim-head"><span class="book-badge book-${c.pass ? "passed" : "failed"}">${c.pass ? "✓" : "✗"} ${c.pass ? "as expected" : "verdict differs"}</span>` +
    `<span class="book-claim-id">${esc(c.id ?? "")}</span> <span class="book-claim-title">${esc(c.title)}</span>` +
    `<span class="book-verdicts">expected <span class="book-verdict book-verdict-${esc(c.expected)}">${esc(c.expected)}</span> · observed ${verdict}</span>` +
    `<span class="book-coverage">${esc(coverageWords(c.coverage, c.stats, c.complete, c.expected, c.observed, c.reads, c))}</span></div>`;
  let body = evidenceHtml(c.evidence);
  if (!c.pass) body += `<pre class="book-failure">${esc(c.message).replace(/\n/g, "&#10;")}</pre>`;
  const w = c.witness as BoundedWitness | undefined;
  if (w) {
    const cmd = replayCommand(file, blockId, w.token);
    const what = w.predicate ? "Witness" : "Counterexample";
    const rows = withBlockedRows(w.trace, w.findings);
    const first = firstInterestingStep(rows.trace, rows.findings);
    const stateUrl = states && emit ? emit(`${anchor}.state.json`, JSON.stringify(states)) : null;
    body += `<div class="book-witness"${first !== null ? ` data-first-step="${first}"` : ""}${stateUrl ? ` data-states="${esc(stateUrl)}"` : ""}><div class="book-witness-head">${what}: ${w.steps} steps, ${w.preemptions} preemption${w.preemptions === 1 ? "" : "s"} <span class="book-minimisation">(minimised: ${esc(w.minimisation)})</span>` +
      (stateUrl ? ` <span class="book-state-hint">Click a step, or focus the diagram and use ← →, to see the machine's state after it.</span>` : "") + `</div>` +
      unsearched(`<div class="book-swimlane"${stateUrl ? ` tabindex="0" aria-label="${esc(`${c.id ?? c.title}: witness steps; use the left and right arrow keys to step through the machine's state`)}"` : ""}>${swimlaneSvg(rows.trace, rows.findings, { idPrefix: `${anchor}-sl`, gaps: w.cut?.gaps, link, title: `${c.id ?? c.title}: ${what.toLowerCase()} trace` })}</div>`) +
      (stateUrl ? `<div class="book-state" hidden aria-live="polite"></div>` : "") +
      splats(w.trace, w.findings).map((t) => `<pre class="book-splat">${esc(t).replace(/\n/g, "&#10;")}</pre>`).join("") +
      unsearched(`<details class="book-record"><summary>the same trace as text</summary>${traceHtml(w, anchor, cmd, emit)}</details>`) +
      `<div class="book-replay"><code class="book-replay-cmd">${esc(cmd)}</code><button type="button" class="book-copy" data-copy="${esc(cmd)}" title="Copy the replay command">copy</button></div></div>`;
  }
  return `<div class="book-claim book-claim-${c.pass ? "pass" : "fail"}" id="${anchor}" data-claim-id="${esc(c.id ?? "")}" data-expected="${esc(c.expected)}" data-observed="${esc(c.observed)}" data-pass="${c.pass}">${head}${body}</div>`;
}
