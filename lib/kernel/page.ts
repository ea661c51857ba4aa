// struct page and the frame allocator (kernel-semantics §3). Model of include/linux/mm.h,
// include/linux/page_ref.h, include/linux/page-flags.h, mm/page_alloc.c (free list only).
//
// ALL hardware-visible memory state is one explorer object, `memory` (this class): frames,
// CPU page tables, CPU TLBs, the page cache, swap, and whatever the device half adds (GPU page
// tables, GPU TLB, IOMMU). Every step that reads or writes any of it is declared on this one
// object (`mem.step(...)`), so the explorer's dependency relation is sound by construction:
// a GUP lookup, a PTE zap, a device write and a frame free all conflict. Steps that only read
// (a page-table walk by hmm_range_fault, a CPU read through the TLB that fills nothing) use
// mode "r" and commute with each other. The cost is less reduction than per-frame objects
// would give; the gain is that no interleaving that matters can be missed.
//
// Frames live in typed arrays indexed by pfn (no per-step allocation). pfn 0 is the zero page.
// The allocator is a LIFO stack, so a freed frame is the very next one handed out: a stale
// translation then lands in someone else's data, which is what the oracles look for.

import { Obj, finding, note } from "../explorer/index.ts";
import type { Mode, Yieldable } from "../explorer/index.ts";
import { Arena, arenaBytes } from "./arena.ts";
import type { Era } from "./era.ts";
import { accessLogOn, initScalar, noteAccess, recordArray, recordList, type ArraySink, type FieldSink } from "./access-log.ts";
import { MODE_UPDATE } from "../explorer/effect.ts";
import { FieldLog, fieldNo, fieldsOn, linearFields, SPACE_FRAME, SPACE_GLOBAL } from "./field-log.ts";

/** Per-frame arrays of PhysMem, in field-number order (field-log.ts); then hw kinds, then onFree. */
const FRAME_FIELDS = Object.freeze(["ref", "mapcount", "pins", "gets", "flags", "mapping", "index", "anonMm", "gen", "contents"] as const);
const FRAME_CONTENTS = FRAME_FIELDS.indexOf("contents");
const FRAME_REF = FRAME_FIELDS.indexOf("ref");
/** Global fields of memory (field-log.ts SPACE_GLOBAL). 1 was the global write counter, 4 the device
 *  oracles' epoch (both removed; the oracles count per page now: page-counts.ts). */
export const G_FREELIST = 0, G_WRITES = 2, G_ORACLE_PENDING = 3;

/** The contents bit and write id of every CPU store. The lost-write oracle follows device writes
 *  only, so CPU stores need no id of their own, and giving them one (a place in the shared write
 *  log) made every store depend on every other write under field footprints. */
export const CPU_WRITE_ID = 31;

/** Page flags (include/linux/page-flags.h), as bits. */
export const PG_DIRTY = 1 << 0;
export const PG_WRITEBACK = 1 << 1;
export const PG_UPTODATE = 1 << 2;
export const PG_LRU = 1 << 3;
export const PG_ACTIVE = 1 << 4;
export const PG_REFERENCED = 1 << 5;
export const PG_ANON = 1 << 6;
export const PG_SWAPBACKED = 1 << 7;
export const PG_SWAPCACHE = 1 << 8;
/** PageAnonExclusive (v5.19): only this mm may map it writable. Maintained only in eras that have it. */
export const PG_ANON_EXCLUSIVE = 1 << 9;
/** PG_ANON_EXCLUSIVE for a new private anon page (fault, COW copy, fork's early copy, collapse),
 *  in an era that has the flag (v5.19+); 0 in one that does not. */
export function newAnonExclusive(era: Era): number {
  return era.cowReuse === "exclusive" ? PG_ANON_EXCLUSIVE : 0;
}
/** PagePrivate: the filesystem attached buffer heads (ext4). Dropped by filemap_release_folio. */
export const PG_PRIVATE = 1 << 10;
export const PG_RECLAIM = 1 << 11;
/** The shared zero page: never freed, never written, pins not accounted. */
export const PG_ZERO = 1 << 12;
/** Head of a (scaled-down) THP: frames head..head+HPAGE_NR-1 form one compound page. */
export const PG_HEAD = 1 << 13;

/** GUP_PIN_COUNTING_BIAS (include/linux/mm.h). */
export const GUP_PIN_COUNTING_BIAS = 1024;
/** Pages per scaled-down PMD (chapters.md §0.5: 4 PTEs per PMD for THP scenarios). */
export const HPAGE_NR = 4;

/** Kinds of hardware reference a frame can have; the uaf oracle fires if a frame is freed
 *  while any is non-zero, or a device accesses a frame that is free or was reallocated. */
export const HW_CPU_TLB = 0;
export const HW_GPU_PTE = 1;
export const HW_GPU_TLB = 2;
export const HW_IOMMU_PTE = 3;
export const HW_IOTLB = 4;
export const HW_JOB = 5;
export const HW_KINDS = 6;
/** Fields per frame numbered by PhysMem (FRAME_FIELDS, hw kinds, onFree); oracles.ts numbers its own after them. */
export const FRAME_FIELD_COUNT = FRAME_FIELDS.length + HW_KINDS + 1;
export const HW_NAMES = Object.freeze(["CPU TLB", "GPU PTE", "GPU TLB", "IOMMU PTE", "IOTLB", "in-flight GPU job"] as const);

/** Who wrote: the CPU or a device (lost-write bookkeeping). */
export type Writer = "cpu" | "device";

/** One recorded device write (kept for the lost-write oracle; at most 31 per execution are tracked). */
export interface WriteRecord {
  readonly id: number;
  readonly by: Writer;
  readonly pfn: number;
  /** The mm and page whose data this write is meant to be (the owner's view), if known. */
  readonly mm: number;
  readonly vpn: number;
  readonly step: string;
}

export class PhysMem extends Obj {
  readonly nframes: number;
  // ---- per-frame state, indexed by pfn; protected by "being inside a memory step" ----
  /** _refcount. 0 = free. Invariant: ref >= mapcount + cache refs + pins * bias (now). */
  readonly ref: Int32Array;
  /** _mapcount + 1 (number of PTEs mapping it). */
  readonly mapcount: Int32Array;
  /** Pins taken with FOLL_PIN (now era; the bias is also in ref). 2018: always 0. */
  readonly pins: Int32Array;
  /** GUP FOLL_GET references outstanding (conservation oracle; also in ref). */
  readonly gets: Int32Array;
  readonly flags: Int32Array;
  /** page->mapping: file id for page-cache pages, -1 otherwise. Anon owner is `anonMm`. */
  readonly mapping: Int32Array;
  /** page->index: page offset in the file, or the vpn an anon page was first mapped at. */
  readonly index: Int32Array;
  /** For anon pages: the mm that allocated it (cross-mm-write bookkeeping). */
  readonly anonMm: Int32Array;
  /** Incremented at every allocation of the frame: a (pfn, gen) handle goes stale when reused. */
  readonly gen: Int32Array;
  /** Which writes' data the frame holds: bit i set = the data of write i is in it (copies copy
   *  the mask). Lets the lost-write oracle follow data through COW copies, swap and writeback. */
  readonly contents: Int32Array;
  /** The same array without the recording wrapper: writeFrame ORs into it and records the access
   *  itself, as a commutative update (orContents). */
  private readonly contentsRaw: Int32Array;
  /** The counts without the recording wrapper: a drop that does not free records itself, as a
   *  commutative update (putPage). Read and written there only: dpor.ts's argument ("Counts")
   *  needs every other touch of a count, increments included, to go through the recorder. */
  private readonly refRaw: Int32Array;
  /** How putPage records a drop that does not free (tests only; per kernel, so per execution):
   *  "update" as it says; two mutants that each drop one of its rules and must lose outcomes, a
   *  drop to 1 that does not name the count to DPOR ("no-crossing") and an update whatever the
   *  step touched of the count before ("every-touch"); and every drop a read and a write
   *  ("read-write", the model before December 2026) (test/kernel/put-page-races.test.ts). */
  dropAs: "update" | "no-crossing" | "every-touch" | "read-write" = "update";
  /** Hardware references by kind: hw[pfn * HW_KINDS + kind]. */
  readonly hw: Int32Array;
  /** Free list (LIFO). Invariant: free[0..nfree) are exactly the frames with onFree[pfn] === 1. */
  private readonly free: Int32Array;
  // Recorded under field footprints: defined in the constructor (access-log.ts initScalar).
  private declare nfree: number;
  /** Free-list membership: what "free" means for every oracle. Not the refcount: a reference
   *  wrongly taken on a free frame (a grab that did not check for zero) must not make the frame
   *  look live again, or the use-after-free it enables would go unseen. */
  private readonly onFree: Uint8Array;
  // ---- writes ----
  /** Device writes (CPU stores are not logged: CPU_WRITE_ID). */
  readonly writes: WriteRecord[] = [];
  /** Where the page_freed tracepoint goes (tracepoints.ts): the Kernel, set when a probe listens;
   *  freeFrame calls it last. Probes touch only their own recorded oracle state. The kernel itself
   *  and not an arrow assigned here at boot: V8 pretenures a function literal assigned straight to
   *  a property, the interpreter and Sparkplug put such an arrow in the old generation (TurboFan's
   *  code, once the boot was optimised, did not: 1 423 of 20 000 boots, measured), and each kept
   *  its kernel, and all the execution it reaches, alive through every young collection until a
   *  full one (lib/kernel/README.md, "No function literal assigned straight to a property"). */
  freedSink: { pageFreed(pfn: number): void } | null = null;
  /** Field footprints: this execution's recorder of memory's fields (field-log.ts), or null when off. */
  readonly fields: FieldLog | null;

  constructor(nframes: number) {
    super("memory", "memory");
    this.nframes = nframes;
    // One backing store for every per-frame array (arena.ts): a kernel is booted per execution.
    const a = new Arena(arenaBytes(nframes * (11 + HW_KINDS), nframes));
    this.ref = a.int32(nframes);
    this.mapcount = a.int32(nframes);
    this.pins = a.int32(nframes);
    this.gets = a.int32(nframes);
    this.flags = a.int32(nframes);
    this.mapping = a.int32(nframes).fill(-1);
    this.index = a.int32(nframes);
    this.anonMm = a.int32(nframes).fill(-1);
    this.gen = a.int32(nframes);
    this.contents = this.contentsRaw = a.int32(nframes);
    this.refRaw = this.ref; // before the recording wrapper replaces this.ref (below)
    this.hw = a.int32(nframes * HW_KINDS);
    this.free = a.int32(nframes);
    this.onFree = a.uint8(nframes);
    // pfn 0: the zero page, permanently referenced.
    this.ref[0] = 1 << 30;
    this.flags[0] = PG_ZERO | PG_UPTODATE;
    // Push in reverse so pfn 1 is handed out first.
    let nfree = 0;
    for (let pfn = nframes - 1; pfn >= 1; pfn--) {
      this.free[nfree++] = pfn;
      this.onFree[pfn] = 1;
    }
    // Field footprints (field-log.ts): this execution's recorder, and every per-frame array, the
    // free list and the write log behind recording wrappers.
    const fl = fieldsOn() ? new FieldLog() : null;
    this.fields = fl;
    const recorded = accessLogOn() || fl !== null;
    initScalar(this, "nfree", nfree, recorded ? { key: "G.freelist", fs: fl === null ? undefined : { log: fl, no: () => fieldNo(SPACE_GLOBAL, 0, 0, G_FREELIST) } } : null);
    if (recorded) {
      const me = this as unknown as Record<string, Int32Array | Uint8Array>;
      const sink = (f: number, per = 1): ArraySink | undefined => (fl === null ? undefined : { log: fl, no: (i) => fieldNo(SPACE_FRAME, 0, Math.floor(i / per), per === 1 ? f : f + (i % per)), ...linearFields(SPACE_FRAME, 0, f, per) });
      const global = (f: number): FieldSink<void> | undefined => (fl === null ? undefined : { log: fl, no: () => fieldNo(SPACE_GLOBAL, 0, 0, f) });
      FRAME_FIELDS.forEach((f, i) => (me[f] = recordArray(me[f], (j) => `F${j}.${f}`, sink(i))));
      me.hw = recordArray(me.hw, (i) => `F${Math.floor(i / HW_KINDS)}.hw:${HW_NAMES[i % HW_KINDS]}`, sink(FRAME_FIELDS.length, HW_KINDS));
      me.free = recordArray(me.free, () => "G.freelist", fl === null ? undefined : { log: fl, no: () => fieldNo(SPACE_GLOBAL, 0, 0, G_FREELIST), base: fieldNo(SPACE_GLOBAL, 0, 0, G_FREELIST), per: 0, limit: 0x7fffffff });
      me.onFree = recordArray(me.onFree, (i) => `F${i}.onFree`, sink(FRAME_FIELDS.length + HW_KINDS));
      (this as { writes: WriteRecord[] }).writes = recordList(this.writes, "G.writes", global(G_WRITES));
      if (fl !== null) {
        FRAME_FIELDS.forEach((f, i) => fl.names.set(SPACE_FRAME * 64 + i, f));
        HW_NAMES.forEach((n, i) => fl.names.set(SPACE_FRAME * 64 + FRAME_FIELDS.length + i, `hw:${n}`));
        fl.names.set(SPACE_FRAME * 64 + FRAME_FIELDS.length + HW_KINDS, "onFree");
        ["freelist", "-", "writes", "oracle.pending"].forEach((n, i) => fl.names.set(SPACE_GLOBAL * 64 + i, n));
      }
    }
  }

  /**
   * One scheduling point on hardware-visible memory. `run` performs the whole effect
   * atomically (e.g. "take the PTL, check pte_same, set the PTE, drop the PTL").
   * Use mode "r" only when run() changes nothing any other step reads.
   */
  step<T>(label: string, mode: Mode, run: () => T, enabled?: () => boolean): Generator<Yieldable, T, unknown> {
    // Under field footprints this step counts as writing all of memory (its run() may touch
    // state no wrapper records, e.g. a driver's own state in a chapter): not split. Declared "r"
    // and seen to write no recorded field, it reads all of memory instead (FieldLog.anyWrite).
    return this.access(mode === "r" ? "read" : "write", mode, { label, run, enabled });
  }

  /**
   * A memory step whose run() touches ONLY state behind recording wrappers (field-log.ts; the
   * list in lib/kernel/README.md "Field footprints"): under search.fields it depends on other
   * steps by the fields it touched. Anything else it reaches must call fieldTrip() (then it falls
   * back to all of memory). Kernel code only, each call site checked against that list.
   */
  fieldStep<T>(label: string, mode: Mode, run: () => T): Generator<Yieldable, T, unknown> {
    return this.access(mode === "r" ? "read" : "write", mode, { label, run, split: true });
  }

  /**
   * SetPageX as the kernel's callers do it: they test the bit first and store only when it is
   * clear (set_page_dirty's `if (!PageDirty(page))`, mark_page_accessed's `else if
   * (!PageReferenced(page))`, follow_page_pte's `!PageDirty(page)`; a file mapping's
   * TestSetPageDirty leaves a set bit as it was). So with the bit already set the step only reads
   * the frame's flags, and under field footprints it commutes with the other readers of them.
   * Inside a step.
   */
  setFlag(pfn: number, bit: number): void {
    const f = this.flags[pfn];
    if ((f & bit) !== bit) this.flags[pfn] = f | bit;
  }

  // ---- the allocator (call inside a step) ----

  /** Take a free frame: zeroed, ref 1, new generation. -1 if memory is exhausted. */
  allocFrame(): number {
    if (this.nfree === 0) return -1;
    const pfn = this.free[--this.nfree];
    this.onFree[pfn] = 0;
    this.ref[pfn] = 1;
    this.mapcount[pfn] = 0;
    this.pins[pfn] = 0;
    this.gets[pfn] = 0;
    this.flags[pfn] = PG_UPTODATE;
    this.mapping[pfn] = -1;
    this.index[pfn] = 0;
    this.anonMm[pfn] = -1;
    this.gen[pfn]++;
    this.contents[pfn] = 0;
    return pfn;
  }

  /** Number of free frames (for assertions and reclaim decisions). */
  freeCount(): number {
    return this.nfree;
  }

  /** Is the frame on the free list? (the definition of "free" for every oracle) */
  isFree(pfn: number): boolean {
    return this.onFree[pfn] === 1;
  }

  /** Return a frame whose refcount reached 0 to the allocator (free_unref_page). The uaf oracle:
   *  no hardware translation may still reference it. */
  private freeFrame(pfn: number): void {
    if (this.onFree[pfn]) {
      // The count went 0 -> n -> 0 on a frame that was already free: only a reference taken on a
      // free frame (already reported) gets here. It is not freed twice.
      note(`frame ${pfn} dropped back to 0 references; it was already free`);
      return;
    }
    for (let kind = 0; kind < HW_KINDS; kind++) {
      const n = this.hw[pfn * HW_KINDS + kind];
      if (n > 0) finding("uaf", `frame ${pfn} was freed while ${n} ${HW_NAMES[kind]} ${n === 1 ? "entry still references" : "entries still reference"} it`, { pfn, via: HW_NAMES[kind] });
    }
    this.flags[pfn] = 0;
    this.onFree[pfn] = 1;
    this.free[this.nfree++] = pfn;
    note(`frame ${pfn} freed`);
    if (this.freedSink !== null) this.freedSink.pageFreed(pfn);
  }

  // ---- references (call inside a step) ----

  /** get_page / folio_get: the caller must already hold a reference (or a mapping that does). */
  getPage(pfn: number, n = 1): void {
    if (this.isZeroPage(pfn)) return;
    this.checkLive(pfn, "get_page");
    this.ref[pfn] += n;
  }

  /** A reference is being taken on pfn: a free frame is a `uaf` (via "reference"), a zero count
   *  on a frame that is not free a `refcount` error. Call inside a step. */
  checkLive(pfn: number, who: string): void {
    if (this.isFree(pfn)) finding("uaf", `${who} took a reference on frame ${pfn}, which is free`, { pfn, via: "reference" });
    else if (this.ref[pfn] <= 0) finding("refcount", `${who} on frame ${pfn} whose refcount is ${this.ref[pfn]}`, { pfn });
  }

  /**
   * put_page / folio_put: frees the frame when the count reaches zero.
   *
   * Field footprints: a single drop that does not free, and is the step's first touch of the count,
   * is recorded as a commutative update of it (effect.ts MODE_UPDATE) rather than a read and a
   * write, so that two such drops by two threads are independent (the two COW breaks of a fork
   * drop the old page so: a third of chapter 03's C03.3 races, two fifths of chapter 13's i915
   * fork search). Why that is sound, although whether a drop frees depends on the count:
   *  - Two such drops commute where they ran: each left at least 1 in the order explored, so in
   *    the other order each leaves at least 1 too (the later one's value is the same, the earlier
   *    one's is higher). Neither frees either way, and a drop returns nothing into its thread.
   *  - A drop asleep in DPOR's sleep set with this record would free if it ran once the count is
   *    1. Every other step that touches the count reads or writes it (a get, a drop that frees, a
   *    drop of several, a check of the count) and wakes the sleeper; a drop like this one does
   *    not, so the drop that leaves exactly 1 names the count (FieldLog.cross, effect.ts
   *    FieldRecorder.crossed) and DPOR wakes every sleeper whose record updates it (dpor.ts,
   *    "Counts", which also argues why race analysis stays sound).
   *  - Only the first touch: a step that drops one frame twice (tlb_flush_mmu puts a whole gather)
   *    or reads the count first records a read and write, as before (field-log.ts merges an
   *    update with any other touch of the field into a write; a second drop takes the recorded
   *    path below).
   * Tried twice before and reverted (December 2026): without the crossing rule a drop recorded
   * as an update slept through the drop to 1 and freed unseen; with a threshold of 2 per call, one
   * step's two drops made one update record, and a drop to 1 still raced the drop before it.
   * test/kernel/put-page-races.test.ts keeps both programs, the sweep, and each rule's mutant.
   * `fl.on` also holds inside a declared read that is not split: a drop there records an update
   * and no crossing counts, which is sound because such a step, once it wrote a field, writes the
   * whole of memory (Execution.readAllFoot).
   */
  putPage(pfn: number, n = 1): void {
    if (this.isZeroPage(pfn)) return;
    const fl = this.fields;
    if (n === 1 && fl !== null && fl.on && this.refRaw[pfn] >= 2 && this.dropAs !== "read-write") {
      const f = fieldNo(SPACE_FRAME, 0, pfn, FRAME_REF);
      if (this.dropAs === "every-touch" || fl.modeOf(f) === 0) {
        fl.rec(f, MODE_UPDATE);
        // The race log (debug) names fields by its own access log, where this is a write: it
        // attributes the races DPOR found, and may name this field for one that is not on it.
        if (accessLogOn()) noteAccess(`F${pfn}.ref`, 2);
        if (--this.refRaw[pfn] === 1 && this.dropAs !== "no-crossing") fl.cross(f);
        return;
      }
    }
    if (this.ref[pfn] < n) {
      finding("refcount", `put_page on frame ${pfn} would drop its refcount below zero (${this.ref[pfn]} - ${n})`, { pfn });
      return;
    }
    this.ref[pfn] -= n;
    if (this.ref[pfn] === 0) this.freeFrame(pfn);
  }

  /** folio_maybe_dma_pinned for a small page: refcount >= bias (false positives by design). */
  maybeDmaPinned(pfn: number): boolean {
    return this.ref[pfn] >= GUP_PIN_COUNTING_BIAS;
  }

  /**
   * Is pfn the shared zero page (PG_ZERO)? Frame 0 is, from boot (the constructor) to the end: it is
   * never freed or allocated, and no other frame ever gets the flag. So the answer is immutable and
   * read without the recorded `flags`: a read of those would order every store, reference and
   * mapping change of a frame against every change of its other flags (GUP's FOLL_TOUCH dirtying it,
   * reclaim isolating it), as field footprints see them. test/kernel/zero-page.test.ts holds the
   * invariant.
   */
  isZeroPage(pfn: number): boolean {
    return pfn === 0;
  }

  /** Is the frame an anon page? */
  isAnon(pfn: number): boolean {
    return (this.flags[pfn] & PG_ANON) !== 0;
  }

  // ---- hardware references (call inside a step) ----

  /** A hardware translation (GPU PTE, IOMMU PTE, TLB entry, in-flight job) now points at pfn.
   *  Installing one to a free frame is itself a uaf. */
  hwGet(pfn: number, kind: number): void {
    if (pfn !== 0 && this.isFree(pfn)) finding("uaf", `${HW_NAMES[kind]} installed for frame ${pfn}, which is free`, { pfn, via: HW_NAMES[kind] });
    this.hw[pfn * HW_KINDS + kind]++;
  }
  hwPut(pfn: number, kind: number): void {
    this.hw[pfn * HW_KINDS + kind]--;
  }
  hwCount(pfn: number, kind: number): number {
    return this.hw[pfn * HW_KINDS + kind];
  }

  // ---- contents ----

  /**
   * A write of new data into frame pfn (CPU store or device DMA). `gen` is the generation the
   * writer's translation was made for: if the frame was freed or reused since, it is a uaf.
   * Returns the write id: CPU_WRITE_ID for a CPU store, else the device write's (-1 if untracked).
   */
  writeFrame(pfn: number, by: Writer, gen: number, mm = -1, vpn = -1, what = ""): number {
    if (this.isZeroPage(pfn)) finding("zero-page-write", `${by} wrote the shared zero page (${what})`, { by });
    if (this.isFree(pfn) || this.gen[pfn] !== gen)
      finding("uaf", `${by} write ${what} reached frame ${pfn} after it was ${this.isFree(pfn) ? "freed" : "freed and reused"}`, { pfn, via: by });
    if (by === "cpu") {
      this.orContents(pfn, 1 << CPU_WRITE_ID);
      return CPU_WRITE_ID;
    }
    const id = this.writes.length;
    if (id < CPU_WRITE_ID) {
      this.orContents(pfn, 1 << id);
      this.writes.push({ id, by, pfn, mm, vpn, step: what });
    }
    return id < CPU_WRITE_ID ? id : -1;
  }

  /** contents[pfn] |= bits. Under field footprints a commutative update (effect.ts MODE_UPDATE):
   *  two writes of one frame leave the same bits in either order and read nothing of the frame's
   *  data, so DPOR need not order them; a read or copy of the data (readFrame, copyFrame, swap,
   *  the oracles) and a reset (allocFrame) still conflict with each. Every other access of
   *  `contents` goes through its recording wrapper (a read, a write). */
  private orContents(pfn: number, bits: number): void {
    const fl = this.fields;
    if (fl !== null && fl.on) fl.rec(fieldNo(SPACE_FRAME, 0, pfn, FRAME_CONTENTS), MODE_UPDATE);
    if (accessLogOn()) noteAccess(`F${pfn}.contents`, 2); // the race log (debug) sees a write
    this.contentsRaw[pfn] |= bits;
  }

  /** A read by a device or the CPU through a translation made for generation `gen`. */
  readFrame(pfn: number, by: Writer, gen: number, what = ""): number {
    if (this.isFree(pfn) || this.gen[pfn] !== gen)
      finding("uaf", `${by} read ${what} reached frame ${pfn} after it was ${this.isFree(pfn) ? "freed" : "freed and reused"}`, { pfn, via: by });
    return this.contents[pfn];
  }

  /** copy_user_highpage: dst gets src's data. */
  copyFrame(dst: number, src: number): void {
    this.contents[dst] = this.contents[src];
  }
}
