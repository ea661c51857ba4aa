// The oracles that need more than one mechanism's state (kernel-semantics §28, chapters.md §0.4).
// Single-mechanism oracles live next to their data: uaf in page.ts (free with a hardware
// reference, device access to a freed or reused frame), page-lock-recursion in page-lock.ts,
// sleep-in-atomic in task.ts, lockdep in lockdep.ts, notifier-protocol in mmu-notifier.ts,
// dirty-no-buffers / dirty-after-return in gup.ts (set_page_dirty), deadlock in the explorer.
//
// Here: stale-install (a device translation installed while, or after, an invalidation of its
// page ran, to a frame the CPU does not map once the invalidation ends), device-write checks
// (ro-write, cross-mm-write), divergence and lost-write at quiescence, refcount conservation.
//
// All functions run INSIDE a memory step (k.mem.step) unless they say otherwise.

import { finding } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { CAUSE_NAMES, PROCESS_CAUSES, PTE_DIRTY, PTE_PRESENT, PTE_SWAP, VM_SHARED } from "./mm.ts";
import type { MmuNotifierRange } from "./mmu-notifier.ts";
import { FRAME_FIELD_COUNT, G_ORACLE_PENDING, GUP_PIN_COUNTING_BIAS, PG_DIRTY, PG_PRIVATE, type WriteRecord } from "./page.ts";
import { mappers } from "./pgtable.ts";
import { accessLogOn, recordArray, recordList } from "./access-log.ts";
import { type FieldLog, fieldNo, linearFields, SPACE_FRAME, SPACE_GLOBAL } from "./field-log.ts";
import { trace, traced, type OracleProbes, type TraceEvents } from "./tracepoints.ts";

interface PendingInstall {
  readonly mm: Mm;
  readonly vpn: number;
  readonly pfn: number;
  readonly who: string;
}

/** Field number of OracleState.invalUnmapped among a frame's fields (after PhysMem's, page.ts). */
const F_INVAL_UNMAPPED = FRAME_FIELD_COUNT;

/** Per-execution oracle state, on the Kernel. Touched only by the probes below, when attached. */
export class OracleState {
  /** Device translations installed while an invalidation covering them was in flight (stale-install). */
  readonly pending: PendingInstall[] = [];
  /** Per frame: it lost its last CPU mapping inside a notifier range (dirty-after-return); cleared
   *  when mapped again or freed. Its own field, not a bit of the frame's flags: every flags access would
   *  otherwise depend on this bookkeeping under field footprints. */
  readonly invalUnmapped: Uint8Array;
  constructor(nframes: number, fl: FieldLog | null) {
    this.invalUnmapped = new Uint8Array(nframes);
    // Wrap for the race log and field footprints (field-log.ts).
    if (accessLogOn() || fl !== null) {
      (this as { pending: PendingInstall[] }).pending = recordList(this.pending, "O.pending", fl === null ? undefined : { log: fl, no: () => fieldNo(SPACE_GLOBAL, 0, 0, G_ORACLE_PENDING) });
      (this as { invalUnmapped: Uint8Array }).invalUnmapped = recordArray(this.invalUnmapped, (i) => `F${i}.invalUnmapped`, fl === null ? undefined : { log: fl, no: (i) => fieldNo(SPACE_FRAME, 0, i, F_INVAL_UNMAPPED), ...linearFields(SPACE_FRAME, 0, F_INVAL_UNMAPPED) });
      fl?.names.set(SPACE_FRAME * 64 + F_INVAL_UNMAPPED, "oracle.invalUnmapped");
    }
  }
}

// ---- the mechanics' emit points (names kept for device code: README-devices.md) ----

/** A notifier range starts (called by mmu_notifier_invalidate_range_start, before callbacks). */
export function invalidationBegins(k: Kernel, r: MmuNotifierRange): void {
  trace(k, "mm_invalidate_start", r);
}

/** A notifier range ends (after range_end's callbacks, or a failed start). */
export function invalidationEnds(k: Kernel, r: MmuNotifierRange): void {
  trace(k, "mm_invalidate_end", r);
}

/**
 * A device translation (GPU PTE, IOMMU PTE) for mm:vpn -> pfn was installed. Outside any
 * invalidation it must match the CPU page table now; inside one, it must match once it ends.
 */
export function deviceMapInstalled(k: Kernel, mm: Mm, vpn: number, pfn: number, who: string): void {
  if (traced(k, "device_map_installed")) trace(k, "device_map_installed", { mm, vpn, pfn, who });
}

/** The device translation was removed before the invalidation ended: nothing to check. */
export function deviceMapRemoved(k: Kernel, mm: Mm, vpn: number, pfn: number): void {
  if (traced(k, "device_map_removed")) trace(k, "device_map_removed", { mm, vpn, pfn });
}

// ---- probes (attached by oracle-probes.ts when a claim reads their kinds) ----

/** In-flight invalidations per page (Mm.invalActive), for stale-install and dirty-after-return. */
export const INVALIDATIONS_IN_FLIGHT: OracleProbes = Object.freeze({
  mm_invalidate_start: Object.freeze([(_k: Kernel, r: MmuNotifierRange) => {
    for (let vpn = r.start; vpn < r.end && vpn < r.mm.npages; vpn++) r.mm.invalActive[vpn]++;
  }]),
  mm_invalidate_end: Object.freeze([(_k: Kernel, r: MmuNotifierRange) => {
    for (let vpn = r.start; vpn < r.end && vpn < r.mm.npages; vpn++) r.mm.invalActive[vpn]--;
  }]),
});

/** stale-install: check the translations installed during the range against the CPU once it ends. */
function staleInstallEnd(k: Kernel, r: MmuNotifierRange): void {
  const mm = r.mm;
  const p = k.oracle.pending;
  for (let i = p.length - 1; i >= 0; i--) {
    const e = p[i];
    if (e.mm !== mm || e.vpn < r.start || e.vpn >= r.end) continue;
    const cpu = mm.cpuPfn(e.vpn);
    if (cpu !== e.pfn)
      finding("stale-install", `${e.who} installed frame ${e.pfn} for ${mm.name}:${e.vpn} during an invalidation after which the CPU maps ${cpu < 0 ? "nothing" : `frame ${cpu}`}`, { mm: mm.name, vpn: e.vpn, pfn: e.pfn, cpu });
    if (mm.invalActive[e.vpn] === 0) p.splice(i, 1);
  }
}
function staleInstallInstalled(k: Kernel, e: TraceEvents["device_map_installed"]): void {
  const { mm, vpn, pfn, who } = e;
  if (mm.invalActive[vpn] > 0) {
    k.oracle.pending.push({ mm, vpn, pfn, who });
    return;
  }
  const cpu = mm.cpuPfn(vpn);
  if (cpu !== pfn)
    finding("stale-install", `${who} installed frame ${pfn} for ${mm.name}:${vpn} but the CPU maps ${cpu < 0 ? "nothing" : `frame ${cpu}`} there (${CAUSE_NAMES[mm.changeCause[vpn]]} changed it)`, { mm: mm.name, vpn, pfn, cpu });
}
function staleInstallRemoved(k: Kernel, e: TraceEvents["device_map_removed"]): void {
  const p = k.oracle.pending;
  for (let i = p.length - 1; i >= 0; i--) if (p[i].mm === e.mm && p[i].vpn === e.vpn && p[i].pfn === e.pfn) p.splice(i, 1);
}
/** stale-install's probes (after INVALIDATIONS_IN_FLIGHT's: its end probe reads the decremented count). */
export const STALE_INSTALL: OracleProbes = Object.freeze({
  mm_invalidate_end: Object.freeze([staleInstallEnd]),
  device_map_installed: Object.freeze([staleInstallInstalled]),
  device_map_removed: Object.freeze([staleInstallRemoved]),
});

/** Clear frame pfn's dirty-after-return mark. Read first: a frame that is not marked is not
 *  written (a write would race every mapping and every free). */
function unmark(k: Kernel, pfn: number): void {
  if (k.oracle.invalUnmapped[pfn]) k.oracle.invalUnmapped[pfn] = 0;
}
/** dirty-after-return: a frame whose last CPU mapping went inside a notifier range is dirtied. */
export const DIRTY_AFTER_RETURN: OracleProbes = Object.freeze({
  page_mapped: Object.freeze([unmark]),
  page_unmapped: Object.freeze([(k: Kernel, e: TraceEvents["page_unmapped"]) => {
    if (e.mm.invalActive[e.vpn] > 0) k.oracle.invalUnmapped[e.pfn] = 1;
  }]),
  // The mark is the frame's for this life only, as the page flag it stands for was wiped by
  // free_pages: a freed, then reused, frame starts unmarked.
  page_freed: Object.freeze([unmark]),
  page_dirtied: Object.freeze([(k: Kernel, e: TraceEvents["page_dirtied"]) => {
    if (k.oracle.invalUnmapped[e.pfn])
      finding("dirty-after-return", `${e.how} dirtied frame ${e.pfn} after the invalidation that removed its last CPU mapping had returned`, { pfn: e.pfn });
  }]),
});

export interface DeviceWrite {
  /** The address space and page the device believes it writes (the binding's owner view). */
  readonly mm: Mm;
  readonly vpn: number;
  /** The frame the device's translation reaches, and the generation it was made for. */
  readonly pfn: number;
  readonly gen: number;
  readonly who: string;
}

/** ro-write's bookkeeping (Mm.roReturned): which pages a returned mprotect(PROT_READ) covers. */
export const RO_WRITE: OracleProbes = Object.freeze({
  mprotect_returned: Object.freeze([(_k: Kernel, e: TraceEvents["mprotect_returned"]) => {
    for (let vpn = e.start; vpn < e.end; vpn++) e.mm.roReturned[vpn] = e.write ? 0 : 1;
  }]),
});

/** A device write through a translation: uaf (page.ts), ro-write (when attached: RO_WRITE),
 *  cross-mm-write (when attached: Kernel.crossMmWrite); returns the write id. */
export function deviceWrite(k: Kernel, w: DeviceWrite): number {
  const mem = k.mem;
  if (w.mm.roReturned[w.vpn]) finding("ro-write", `${w.who} wrote ${w.mm.name}:${w.vpn} after mprotect(PROT_READ) on it returned`, { mm: w.mm.name, vpn: w.vpn });
  if (k.crossMmWrite && !mem.isZeroPage(w.pfn) && !mem.isFree(w.pfn) && mem.gen[w.pfn] === w.gen) {
    const ms = mappers(k, w.pfn);
    if (ms.length > 0 && !ms.includes(w.mm))
      finding("cross-mm-write", `${w.who} wrote frame ${w.pfn}, mapped only by ${ms.map((m) => m.name).join(", ")}, not by ${w.mm.name}`, { pfn: w.pfn, owner: w.mm.name, mappers: ms.map((m) => m.name) });
  }
  return mem.writeFrame(w.pfn, "device", w.gen, w.mm.id, w.vpn, w.who);
}

/** The two flavours of a `uaf` finding, for chapters' predicates (chapters.md §0.4): a device
 *  access reached a freed or reused frame (`via: "device"`), or a frame was freed while a device
 *  translation (GPU PTE or TLB, IOMMU PTE or IOTLB) still named it. */
type UafView = { findingsOf(kind: string): readonly { data?: unknown }[] };
const viaOf = (f: { data?: unknown }) => (f.data as { via?: string } | undefined)?.via;
export const deviceUaf = (e: UafView): boolean => e.findingsOf("uaf").some((f) => viaOf(f) === "device");
export const leakUaf = (e: UafView): boolean => e.findingsOf("uaf").some((f) => viaOf(f) !== "device");

/**
 * divergence (at quiescence, e.g. from final()): the frame a live binding reaches for mm:vpn vs
 * the CPU PTE's frame. Returns null if they agree, else the cause tag: "process: <why>" or
 * "kernel: <why>". Callable outside steps (reads only).
 */
export function divergenceOf(mm: Mm, vpn: number, devicePfn: number): string | null {
  const cpu = (mm.pteFlags[vpn] & PTE_PRESENT) !== 0 ? mm.ptePfn[vpn] : -1;
  if (cpu === devicePfn) return null;
  const c = mm.changeCause[vpn];
  return `${PROCESS_CAUSES.includes(c) ? "process" : "kernel"}: ${CAUSE_NAMES[c]}`;
}

/**
 * lost-write (at quiescence; callable outside steps): device writes whose data will not survive.
 * Private memory: the data must be in the frame the owner's CPU maps at that page, or in its swap
 * slot. A shared file mapping: the data must be on disk, or in the page cache page in a state that
 * a final writeback persists: dirty (PG_dirty, or the owner's PTE maps it dirty, which
 * page_mkclean moves to the page), and, for a file that tracks dirtying (ext4), with its buffers,
 * since writeback of a dirty page without buffers crashes (v4.16: BUG_ON) or drops the data (v6.x
 * ext4 clears the dirty bit and skips the page). A clean cached page that holds the only copy
 * loses it at the next reclaim: the data was never going to reach the file.
 * Simplification: only the owner's PTE is asked for a dirty bit; another process's dirty PTE of
 * the same page would also save the data, so the oracle can report a write lost that another
 * mapping would have saved (it errs towards Sometimes).
 */
export function lostWrites(k: Kernel): WriteRecord[] {
  const out: WriteRecord[] = [];
  const mem = k.mem;
  for (const w of mem.writes) {
    if (w.by !== "device" || w.mm < 0) continue;
    const mm = k.mms[w.mm];
    const bit = 1 << w.id;
    const f = mm.pteFlags[w.vpn];
    const vma = mm.findVma(w.vpn);
    let seen: boolean;
    if (vma?.file && vma.flags & VM_SHARED) {
      const file = vma.file;
      const idx = vma.fileIndex(w.vpn);
      const cached = file.cache[idx];
      const dirtyPte = (f & (PTE_PRESENT | PTE_DIRTY)) === (PTE_PRESENT | PTE_DIRTY) && mm.ptePfn[w.vpn] === cached;
      const willWrite = cached >= 0 && ((mem.flags[cached] & PG_DIRTY) !== 0 || dirtyPte) && (!file.dirtyTracked || (mem.flags[cached] & PG_PRIVATE) !== 0);
      seen = (file.disk[idx] & bit) !== 0 || (willWrite && (mem.contents[cached] & bit) !== 0);
    } else if (f & PTE_PRESENT) seen = (mem.contents[mm.ptePfn[w.vpn]] & bit) !== 0;
    else if (f & PTE_SWAP && k.swap) seen = (k.swap.data[mm.ptePfn[w.vpn]] & bit) !== 0 || (k.swap.slotPfn[mm.ptePfn[w.vpn]] >= 0 && (mem.contents[k.swap.slotPfn[mm.ptePfn[w.vpn]]] & bit) !== 0);
    else seen = false;
    if (!seen) out.push(w);
  }
  return out;
}

/**
 * Refcount and pin conservation at quiescence (callable outside steps): every frame in use has
 * ref >= mapcount + pins * bias + gets, and no frame has a negative count. Returns messages.
 */
export function conservationErrors(k: Kernel): string[] {
  const mem = k.mem;
  const out: string[] = [];
  for (let pfn = 1; pfn < mem.nframes; pfn++) {
    if (mem.isFree(pfn)) continue;
    const bias = k.era.pinTracking ? GUP_PIN_COUNTING_BIAS : 1;
    const need = mem.mapcount[pfn] + mem.pins[pfn] * bias + mem.gets[pfn];
    if (mem.ref[pfn] < need) out.push(`frame ${pfn}: refcount ${mem.ref[pfn]} < mapcount ${mem.mapcount[pfn]} + pins ${mem.pins[pfn]}×${bias} + GUP refs ${mem.gets[pfn]}`);
    if (mem.mapcount[pfn] < 0 || mem.pins[pfn] < 0 || mem.gets[pfn] < 0) out.push(`frame ${pfn}: negative count`);
  }
  return out;
}
