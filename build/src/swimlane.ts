// A witness trace as a swimlane diagram, drawn as SVG at build time.
//
// One lane per simulated thread, time flowing down one row per step; each event a box labelled
// with its kernel function or driver step; the locks a thread holds as bars beside its lane; state
// changes (freed, reused, dirtied …) as notes; the step where a finding was reported in red with
// its headline. Long traces collapse runs of uninteresting steps into one row that says so.
//
// Layout is a grid and all text is monospace, so text width is arithmetic (characters × advance)
// and no layout or text-measuring library is needed. Lanes are as wide as their labels need, up to
// a share of FIT_WIDTH, the book's content column at a 1280 px window: a diagram of up to three
// lanes is drawn at its natural size there, a wider one is scaled down by CSS to at least
// MIN_SCALE and scrolls (with a visible hint, book.js) below that. Notes spill across the empty
// lanes of their row, to the right, or to the left from the last lane, so they need no margin.
// Colours come from CSS classes in book.css that use Material's palette variables, so the same SVG
// reads in light and dark mode.

import type { TraceEvent } from "../../lib/explorer/index.ts";
import { escapeHtml as esc } from "./escape.ts";
import type { Gap } from "./bound.ts";

export interface SwimFinding { kind: string; message: string; step: number; thread?: string }

export interface SwimOptions {
  /** Traces longer than this collapse runs of uninteresting steps. */
  collapseAbove?: number;
  /** Shortest run of uninteresting steps worth collapsing. */
  minRun?: number;
  /** At most this many rows: beyond it the middle is omitted (the text trace keeps every step). */
  maxRows?: number;
  /** Prefix for ids inside the SVG, unique per page. */
  idPrefix?: string;
  title?: string;
  /** Where events of a cut trace were left out (bound.ts); each becomes a row that says so. */
  gaps?: readonly Gap[];
  /** The URL of the model code behind a label (source-pages.ts): the label becomes its link. */
  link?: (label: string) => string | null;
}

const ROW = 30;           // px per step
const HEAD = 34;          // lane headers
const BOX_X = 26;         // box offset inside a lane, after the lock bars
const BOX_PAD = 10;       // from a box's right edge to the next lane
const CHAR = 6.6;         // advance of the 11px monospace font used for labels
const HEAD_FONT = 12;     // lane headers are 12px bold (book.css): wider by 12/11
const GUTTER = 44;        // step numbers
const LOCK_BAR = 5;       // px per lock bar
/** The content column of a book page at a 1280 px window (book.css), less a margin. */
export const FIT_WIDTH = 960;
/** Lane widths: at least room for a short label, at most room for a long one. */
const LANE_MIN = 220;
const LANE_MAX = 440;
/** The least CSS may scale a diagram down to (text stays at least 11 px × MIN_SCALE). */
export const MIN_SCALE = 0.75;
/** A single lane has no neighbour to spill its notes over: it gets this much room on its right. */
const NOTE_ROOM = 48;

/** A row of the diagram: one event, or a collapsed run of events. */
export type Row =
  | { kind: "event"; event: TraceEvent; index: number }
  /** `quiet`: steps without locking, notes or findings; `omitted`: cut to bound the diagram's size. */
  | { kind: "collapsed"; events: TraceEvent[]; first: number; reason?: "quiet" | "omitted" }
  /** Events that results.json does not hold (a cut trace): only their count and steps are known. */
  | { kind: "gap"; gap: Gap };

const eventsOf = (r: Row): readonly TraceEvent[] => (r.kind === "event" ? [r.event] : r.kind === "gap" ? [] : r.events);

const LOCKISH = /^(lock|unlock|trylock|down_read|down_write|up_read|up_write|down|up|wait|signal|signal-all|wake_up|spawn)$/;

/** Steps a reader needs to see: locking, choices, notes, findings, and each thread's first and last step. */
function interesting(e: TraceEvent, i: number, ends: ReadonlyMap<string, [number, number]>, findingSteps: Set<number>): boolean {
  if (findingSteps.has(e.step) || e.note || e.kind === "choose" || LOCKISH.test(e.kind)) return true;
  const [first, last] = ends.get(e.thread)!;
  return i === first || i === last;
}

export function rowsOf(trace: readonly TraceEvent[], findings: readonly SwimFinding[], opts: SwimOptions = {}): Row[] {
  const collapseAbove = opts.collapseAbove ?? 40;
  const minRun = opts.minRun ?? 3;
  const gapAfter = new Map((opts.gaps ?? []).map((g) => [g.after, g]));
  const rows: Row[] = [];
  if (trace.length <= collapseAbove) {
    trace.forEach((event, index) => {
      rows.push({ kind: "event", event, index });
      const g = gapAfter.get(index);
      if (g) rows.push({ kind: "gap", gap: g });
    });
    return rows;
  }
  const fsteps = new Set(findings.map((f) => f.step));
  // Each thread's first and last event, found in one pass (the trace may be long).
  const ends = new Map<string, [number, number]>();
  trace.forEach((e, i) => { const x = ends.get(e.thread); if (x) x[1] = i; else ends.set(e.thread, [i, i]); });
  let run: { events: TraceEvent[]; first: number } | null = null;
  const flush = () => {
    if (!run) return;
    if (run.events.length >= minRun) rows.push({ kind: "collapsed", events: run.events, first: run.first });
    else run.events.forEach((event, k) => rows.push({ kind: "event", event, index: run!.first + k }));
    run = null;
  };
  trace.forEach((e, i) => {
    if (interesting(e, i, ends, fsteps)) { flush(); rows.push({ kind: "event", event: e, index: i }); }
    else {
      if (!run) run = { events: [], first: i };
      run.events.push(e);
    }
    const g = gapAfter.get(i);
    if (g) { flush(); rows.push({ kind: "gap", gap: g }); }
  });
  flush();
  return bound(rows, findings, opts.maxRows ?? 90);
}

/**
 * Keeps a long diagram readable and a page light: the first and last rows and every row with a
 * finding stay; the rest become "omitted" rows. Page weight is budgeted at 1 MB for ten witnesses.
 */
function bound(rows: Row[], findings: readonly SwimFinding[], maxRows: number): Row[] {
  if (rows.length <= maxRows) return rows;
  const fsteps = new Set(findings.map((f) => f.step));
  // Each finding row kept in the middle can split the omitted region in two: budget for both.
  const head = Math.floor(maxRows * 0.3);
  const tail = Math.max(1, maxRows - head - 1 - 2 * fsteps.size);
  const keep = (r: Row, i: number) => i < head || i >= rows.length - tail || r.kind === "gap" || (r.kind === "event" && fsteps.has(r.event.step));
  const out: Row[] = [];
  let cut: { events: TraceEvent[]; first: number } | null = null;
  rows.forEach((r, i) => {
    if (keep(r, i)) {
      if (cut) out.push({ kind: "collapsed", events: cut.events, first: cut.first, reason: "omitted" });
      cut = null;
      out.push(r);
      return;
    }
    if (r.kind === "gap") return; // kept above
    const evs = eventsOf(r);
    const first = r.kind === "event" ? r.index : r.first;
    if (!cut) cut = { events: [], first };
    cut.events.push(...evs);
  });
  return out;
}

/** A finding's one-line headline: the first line with words (a lockdep splat opens with rules). */
export function headline(message: string): string {
  return message.split("\n").map((l) => l.trim()).find((l) => /[A-Za-z]/.test(l)) ?? message;
}

/**
 * A step label fitted to its box. Labels are call frames ("execbuf › get_pages › mutex_lock(x)");
 * the innermost frame says what the step did, so the label keeps its end: outer frames give way
 * first, then the innermost call's arguments ("mutex_lock(…)"), and only then the start of it.
 */
export function fitLabel(label: string, width: number): string {
  const max = Math.floor(width / CHAR);
  if (label.length <= max) return label;
  const parts = label.split(" › ");
  const leaf = parts[parts.length - 1]!;
  const parent = parts.length > 2 ? parts[parts.length - 2]! : null;
  // "fn(args) rest" → "fn(…) rest": the function's name says more than its arguments.
  const bare = leaf.replace(/\(([^()]{2,})\)/, "(…)");
  const cands = parts.length > 1
    ? [parent ? `… › ${parent} › ${leaf}` : "", `${parts[0]} › … › ${leaf}`, `… › ${leaf}`, `…${leaf}`, `… › ${bare}`, `…${bare}`]
    : [bare];
  for (const cand of cands) if (cand && cand.length <= max) return cand;
  // Still too long: a leaf that is a call ("tlb_flush_mmu(…): flush TLB, …") keeps its function's
  // name and loses its tail; any other keeps its end.
  if (/^[\w.>-]+\(/.test(bare)) return bare.slice(0, max - 1) + "…";
  return "…" + bare.slice(bare.length - (max - 1));
}

function clip(s: string, width: number): string {
  const max = Math.floor(width / CHAR);
  return s.length <= max ? s : s.slice(0, Math.max(1, max - 1)) + "…";
}

/**
 * Lane width for `lanes` lanes whose longest label has `longest` characters: wide enough for it,
 * but no wider than an equal share of FIT_WIDTH (and never narrower than LANE_MIN).
 */
export function laneWidth(lanes: number, longest: number): number {
  const need = BOX_X + Math.ceil(longest * CHAR) + 10 + BOX_PAD;
  const share = Math.floor((FIT_WIDTH - GUTTER) / Math.max(1, lanes));
  return Math.max(LANE_MIN, Math.min(LANE_MAX, need, share));
}

/** Lock hold spans per thread, as [first row, last row] of the rows where its events held the lock. */
function lockSpans(rows: Row[], threads: string[]): { thread: number; lock: string; from: number; to: number; slot: number }[] {
  const spans: { thread: number; lock: string; from: number; to: number; slot: number }[] = [];
  const open = new Map<string, { from: number; slot: number }>();
  const slots = new Map<number, string[]>();
  const lastRow = new Map<number, number>();
  rows.forEach((r, ri) => {
    for (const e of eventsOf(r)) {
      const t = threads.indexOf(e.thread);
      const mine = slots.get(t) ?? [];
      slots.set(t, mine);
      for (const lock of e.held) {
        const key = `${t}\0${lock}`;
        if (!open.has(key)) {
          let slot = mine.indexOf("");
          if (slot < 0) { slot = mine.length; mine.push(lock); } else mine[slot] = lock;
          open.set(key, { from: ri, slot });
        }
      }
      for (const [key, o] of [...open]) {
        const [ts, lock] = key.split("\0") as [string, string];
        if (Number(ts) !== t || e.held.includes(lock)) continue;
        spans.push({ thread: t, lock, from: o.from, to: ri, slot: o.slot });
        mine[o.slot] = "";
        open.delete(key);
      }
      lastRow.set(t, ri);
    }
  });
  for (const [key, o] of open) {
    const [ts, lock] = key.split("\0") as [string, string];
    spans.push({ thread: Number(ts), lock, from: o.from, to: rows.length - 1, slot: o.slot });
  }
  return spans;
}

/** The step column's text of a row: its step, or the first and last step of a run it stands for. */
function stepLabel(r: Row): string {
  if (r.kind === "gap") return `${r.gap.firstStep}–${r.gap.lastStep}`;
  if (r.kind === "collapsed") return `${r.events[0]!.step}–${r.events[r.events.length - 1]!.step}`;
  return String(r.event.step);
}

export function swimlaneSvg(trace: readonly TraceEvent[], findings: readonly SwimFinding[], opts: SwimOptions = {}): string {
  const id = opts.idPrefix ?? "sl";
  const threads: string[] = [];
  for (const e of trace) if (!threads.includes(e.thread)) threads.push(e.thread);
  const rows = rowsOf(trace, findings, opts);
  const collapsed = rows.filter((r) => r.kind === "collapsed").reduce((n, r) => n + (r as { events: unknown[] }).events.length, 0);
  const left = (opts.gaps ?? []).reduce((n, g) => n + g.count, 0);
  const longest = Math.max(0, ...rows.map((r) => (r.kind === "event" ? r.event.label.length : 0)));
  const LANE = laneWidth(threads.length, longest);
  // The step column fits its longest label ("126–161" for a collapsed run), never narrower than GUTTER.
  const G = Math.max(GUTTER, Math.ceil(Math.max(0, ...rows.map((r) => stepLabel(r).length)) * CHAR) + 10);
  const BOX_W = LANE - BOX_X - BOX_PAD;
  const single = threads.length === 1 && (trace.some((e) => e.note) || findings.length > 0);
  const width = G + threads.length * LANE + (single ? Math.ceil(NOTE_ROOM * CHAR) : 0);
  const height = HEAD + rows.length * ROW + 10;
  const title = opts.title ?? `Witness: ${trace.length} steps over ${threads.length} threads`;
  const byStep = new Map<number, SwimFinding[]>();
  for (const f of findings) byStep.set(f.step, [...(byStep.get(f.step) ?? []), f]);
  const desc = [
    `${trace.length} steps, one lane per thread: ${threads.join(", ")}.`,
    collapsed ? `${collapsed} uninteresting steps are collapsed into rows marked with an ellipsis.` : "",
    left ? `${left} steps of this trace are not on the page; the text trace links the whole.` : "",
    ...findings.map((f) => `Finding ${f.kind} at step ${f.step}${f.thread ? ` in ${f.thread}` : ""}: ${f.message}`),
  ].filter(Boolean).join(" ");

  const out: string[] = [];
  // Drawn at its natural width where it fits, scaled down to MIN_SCALE where not (book.css).
  const style = `max-width: ${width}px; min-width: ${Math.round(width * MIN_SCALE)}px`;
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="swimlane" role="img" aria-labelledby="${id}-t ${id}-d" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" style="${style}" data-threads="${threads.length}">`);
  out.push(`<title id="${id}-t">${esc(title)}</title><desc id="${id}-d">${esc(desc)}</desc>`);
  threads.forEach((t, i) => {
    const x = G + i * LANE;
    out.push(`<g class="sl-lane" data-thread="${esc(t)}"><rect class="sl-lane-bg" x="${x + 2}" y="0" width="${LANE - 4}" height="${height}"/>` +
      `<text class="sl-head" x="${x + LANE / 2}" y="20">${esc(clip(t, (LANE - 12) * (11 / HEAD_FONT)))}</text></g>`);
  });
  for (const s of lockSpans(rows, threads)) {
    const x = G + s.thread * LANE + 6 + s.slot * (LOCK_BAR + 2);
    const y0 = HEAD + s.from * ROW + 4;
    const y1 = HEAD + s.to * ROW + ROW - 4;
    out.push(`<rect class="sl-lock" x="${x}" y="${y0}" width="${LOCK_BAR}" height="${y1 - y0}" data-lock="${esc(s.lock)}"><title>${esc(s.thread >= 0 ? threads[s.thread]! : "")} holds ${esc(s.lock)}</title></rect>`);
  }
  rows.forEach((r, ri) => {
    const y = HEAD + ri * ROW;
    if (r.kind === "gap") {
      const g = r.gap;
      out.push(`<g class="sl-collapsed sl-gap" data-omitted="${g.firstStep}-${g.lastStep}" data-count="${g.count}"><text class="sl-step" x="${G - 6}" y="${y + 19}">${stepLabel(r)}</text>` +
        `<text class="sl-collapsed-text" x="${G + 8}" y="${y + 19}">⋯ ${g.count} steps left out of this page (the text trace below links the whole trace)</text></g>`);
      return;
    }
    if (r.kind === "collapsed") {
      const steps = r.events.map((e) => e.step);
      out.push(`<g class="sl-collapsed" data-steps="${steps.join(" ")}"><text class="sl-step" x="${G - 6}" y="${y + 19}">${stepLabel(r)}</text>` +
        `<text class="sl-collapsed-text" x="${G + 8}" y="${y + 19}">⋯ ${r.events.length} steps ${r.reason === "omitted" ? "omitted to keep the diagram readable (the text trace has every step)" : "without locking, notes or findings collapsed"} (${esc([...new Set(r.events.map((e) => e.thread))].join(", "))})</text></g>`);
      return;
    }
    const e = r.event;
    const lane = threads.indexOf(e.thread);
    const x = G + lane * LANE + BOX_X;
    const hits = byStep.get(e.step)?.filter((f) => !f.thread || f.thread === e.thread) ?? [];
    const cls = hits.length ? "sl-event sl-bad" : "sl-event";
    const effect = e.kind === "choose" ? `choose = ${e.value}` : e.obj ? `${e.kind} ${e.obj}` : e.kind;
    const tip = [`step ${e.step} · ${e.thread}`, e.label, effect, e.held.length ? `holds ${e.held.join(", ")}` : "", e.note, ...hits.map((f) => `${f.kind}: ${f.message}`)].filter(Boolean).join("\n");
    // The state after this row, and the state it is compared with (lib/explorer/state.ts: state i
    // is the state before step i): a step's own change; a choice or a blocked thread changes nothing.
    const still = e.kind === "choose" || e.kind === "blocked";
    out.push(`<g class="${cls}" data-step="${e.step}" data-thread="${esc(e.thread)}" data-state="${still ? e.step : e.step + 1}"><title>${esc(tip)}</title>` +
      `<text class="sl-step" x="${G - 6}" y="${y + 19}">${stepLabel(r)}</text>` +
      `<rect class="sl-box" x="${x}" y="${y + 3}" width="${BOX_W}" height="${ROW - 6}"/>` +
      ((text, href) => (href ? `<a class="sl-src" href="${esc(href)}">${text}</a>` : text))(`<text class="sl-label" x="${x + 5}" y="${y + 18}">${esc(fitLabel(e.label, BOX_W - 10))}</text>`, opts.link?.(e.label)) + `</g>`);
    const side = [e.note, ...hits.map((f) => `${f.kind.toUpperCase()}: ${headline(f.message)}`)].filter(Boolean).join(" · ");
    if (side) {
      // Spills over the empty lanes of its row: rightwards, or leftwards from the last of several.
      const cls = hits.length ? "sl-headline" : "sl-note";
      const left = threads.length > 1 && lane === threads.length - 1;
      const laneX = G + lane * LANE;
      const at = left ? laneX + 2 : x + BOX_W + 4;
      const room = left ? at - G - 4 : width - at - 4;
      out.push(`<text class="${cls}" x="${at}" y="${y + 18}"${left ? ` text-anchor="end"` : ""}>${esc(clip(side, room))}</text>`);
    }
  });
  out.push(`</svg>`);
  return out.join("");
}
