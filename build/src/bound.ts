// What a block recorded, bounded before it is written to results.json (and the cache), so that no
// witness can bloat the results, the page or the render stage, however long it is.
//
// A long witness trace keeps its first TRACE_HEAD and last TRACE_TAIL events, and every event at a
// step where a finding was reported; `cut` says how many events were left out and where. The whole
// trace, as the page's one-line-a-step text, travels gzip-compressed (base64) in `cut.full`, and
// render writes it next to the page as a `.txt.gz` file without decompressing it. A trace too
// large even compressed is dropped, and the page says to regenerate it with the replay command.
// Long messages (a claim's message quotes its whole trace) keep their first and last lines.
//
// Everything downstream (render, scoreboard, diff) sees only bounded records: the full trace is
// walked once, here, to cut it and to compress its text.

import { gzipSync } from "node:zlib";
import type { Finding, TraceEvent, Witness } from "../../lib/explorer/index.ts";
import { compactTrace, isClaim } from "./claim-view.ts";

/** Events kept from the start and from the end of a long trace. */
export const TRACE_HEAD = 100;
export const TRACE_TAIL = 100;
/** At most this many events in the middle are kept because a finding was reported at their step. */
export const TRACE_FINDING_EVENTS = 50;
/** Lines kept from the start and the end of a long message. */
export const MESSAGE_HEAD = 60;
export const MESSAGE_TAIL = 20;
/** The compressed whole trace is dropped beyond this many bytes (before base64). */
export const FULL_TRACE_MAX_BYTES = 2_000_000;

/** Events left out of a cut trace: `count` consecutive events after kept event `after` (-1: none). */
export interface Gap { after: number; count: number; firstStep: number; lastStep: number }

export interface TraceCut {
  /** Events of the whole trace; `trace.length` of them were kept. */
  total: number;
  omitted: number;
  gaps: Gap[];
  /** The whole trace as text (compactTrace), gzip then base64; null when it was too large. */
  full: { encoding: "gzip+base64"; lines: number; bytes: number; data: string } | null;
}

/** A witness as results.json holds it: its trace possibly cut, with the record of the cut. */
export type BoundedWitness = Witness & { cut?: TraceCut };

/** Keeps the first `head` and last `tail` lines, saying how many were left out between them. */
export function cutLines(text: string, head: number, tail: number, what = "lines"): string {
  let n = 0;
  for (let i = text.indexOf("\n"); i >= 0 && n <= head + tail + 1; i = text.indexOf("\n", i + 1)) n++;
  if (n <= head + tail + 1) return text;
  const lines = text.split("\n");
  return [...lines.slice(0, head), `… ${lines.length - head - tail} ${what} left out …`, ...lines.slice(-tail)].join("\n");
}

/** The indices of the events to keep: head, tail, and events at a finding's step. */
function keptIndices(trace: readonly TraceEvent[], findings: readonly Finding[]): number[] {
  const n = trace.length;
  const steps = new Set(findings.map((f) => f.step));
  const keep: number[] = [];
  let middle = 0;
  for (let i = 0; i < n; i++) {
    if (i < TRACE_HEAD || i >= n - TRACE_TAIL) keep.push(i);
    else if (steps.has(trace[i]!.step) && middle < TRACE_FINDING_EVENTS) { keep.push(i); middle++; }
  }
  return keep;
}

export function cutTrace(trace: readonly TraceEvent[], findings: readonly Finding[]): { trace: TraceEvent[]; cut: TraceCut } | null {
  if (trace.length <= TRACE_HEAD + TRACE_TAIL + TRACE_FINDING_EVENTS) return null;
  const keep = keptIndices(trace, findings);
  const gaps: Gap[] = [];
  let prev = -1;
  for (const [k, i] of keep.entries()) {
    if (i > prev + 1) gaps.push({ after: k - 1, count: i - prev - 1, firstStep: trace[prev + 1]!.step, lastStep: trace[i - 1]!.step });
    prev = i;
  }
  const gz = gzipSync(compactTrace(trace, findings), { level: 9 });
  const full = gz.length <= FULL_TRACE_MAX_BYTES
    ? { encoding: "gzip+base64" as const, lines: trace.length + findings.length, bytes: gz.length, data: gz.toString("base64") }
    : null;
  return { trace: keep.map((i) => trace[i]!), cut: { total: trace.length, omitted: trace.length - keep.length, gaps, full } };
}

/** A block's records with long witnesses cut and long messages shortened; short ones unchanged. */
export function boundRecords(records: readonly unknown[]): unknown[] {
  return records.map((r) => {
    if (!isClaim(r)) return r;
    const message = boundMessage(r.message);
    const w = r.witness;
    const c = w ? cutTrace(w.trace, w.findings) : null;
    if (!w || !c) return message === r.message ? r : { ...r, message };
    const witness: BoundedWitness = { ...w, trace: c.trace, text: cutLines(w.text, TRACE_HEAD + 1, TRACE_TAIL + w.findings.length, "steps"), cut: c.cut };
    return { ...r, message, witness };
  });
}

export function boundMessage(message: string): string {
  return cutLines(message, MESSAGE_HEAD, MESSAGE_TAIL);
}
