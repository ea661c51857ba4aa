// get_user_pages and pin_user_pages, put_page / unpin_user_page, and dirtying
// (kernel-semantics §19). Model of mm/gup.c (__get_user_pages, follow_page_pte, faultin_page,
// check_vma_flags, writable_file_mapping_allowed, gup_must_unshare, try_grab_folio,
// gup_fast / __get_user_pages_fast, unpin_user_pages_dirty_lock), mm/swap.c (put_page,
// mark_page_accessed) and mm/page-writeback.c (set_page_dirty, set_page_dirty_lock).
//
// One memory step per page: follow_page_pte looks the PTE up and takes the reference under the
// PTL. GUP-fast does it without the PTL, in two steps per page: read the PTE; then
// try_grab_folio, which fails on a zero refcount, and the re-check of the PTE, which puts the
// reference back if the PTE changed in between (mm/gup.c v4.16 gup_pte_range:
// page_cache_get_speculative(head), then pte_val(pte) != pte_val(*ptep) -> put_page; v6.x
// gup_fast_pte_range: try_grab_folio_fast, then the pmd and pte re-checks -> gup_put_folio).
// Simplification: IRQs-off GUP-fast also holds off an IPI-based TLB shootdown, so on x86 the page
// cannot be freed between the two steps; the model lets it be (as with broadcast TLB invalidation
// or RCU table freeing): more interleavings, never fewer; the re-check turns each extra one into
// the outcome of a GUP-fast after the change.
// The PMD (khugepaged): GUP-fast reads the PMD with the PTE. pmdp_collapse_flush clears the PMD
// and detaches the PTE table intact. If the machine's TLB flush waits for GUP-fast (boot option
// tlbFlushWaitsForGupFast, native x86 IPIs), a GUP-fast that read the old PMD finishes before the
// flush returns; the model keeps the two steps and lets the re-check see the cleared PTE, which
// is again the outcome of a GUP-fast after the flush. If it does not wait, the re-check re-reads
// the detached table, unchanged until khugepaged's copy clears it, and only the PMD re-check of
// 70cbc3cc78a9 (era gupFastPmdRecheck) notices that the table is gone.
//
// 2018 has no FOLL_PIN: pin_user_pages does not exist and every GUP is a plain reference.

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { trace, traced } from "./tracepoints.ts";
import type { Mm } from "./mm.ts";
import { PMD_NONE, PMD_TABLE, PTE_DIRTY, PTE_PRESENT, PTE_SPECIAL, PTE_WRITE, VM_PFNMAP, VM_SHARED, VM_WRITE } from "./mm.ts";
import { handle_mm_fault, VM_FAULT_OK } from "./fault.ts";
import { planted } from "./planted.ts";
import { fieldTrip } from "./field-log.ts";
import { GUP_PIN_COUNTING_BIAS, HPAGE_NR, PG_ACTIVE, PG_ANON, PG_ANON_EXCLUSIVE, PG_DIRTY, PG_PRIVATE, PG_REFERENCED } from "./page.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const FOLL_WRITE = 1 << 0;
export const FOLL_GET = 1 << 1;
export const FOLL_PIN = 1 << 2;
export const FOLL_LONGTERM = 1 << 3;
export const FOLL_FORCE = 1 << 4;
export const FOLL_TOUCH = 1 << 5;

export const EFAULT = -14;
export const ENOMEM = -12;
export const EINVAL = -22;

/**
 * try_grab_folio (mm/gup.c, v6.x; v4.16: get_page under the PTL, page_cache_get_speculative =
 * get_page_unless_zero on the fast path): take the GUP reference, FOLL_GET +1, FOLL_PIN +bias
 * (now). Fails, taking nothing, if the refcount is zero: the frame is being freed or is free
 * (folio_ref_try_add_rcu / page_ref_add_unless(.., 0)). Under the PTL a mapped page always has a
 * reference, so only GUP-fast can see it fail. In a step.
 */
export function try_grab_folio(k: Kernel, mm: Mm, pfn: number, flags: number): boolean {
  const mem = k.mem;
  if (mem.isZeroPage(pfn)) return true; // pins on the zero page are not accounted
  if (mem.ref[pfn] <= 0 && !planted(k, "grab-dead-frame")) return false;
  mem.checkLive(pfn, "try_grab_folio"); // only a planted grab reaches a free frame: uaf
  if (flags & FOLL_PIN) {
    mem.ref[pfn] += GUP_PIN_COUNTING_BIAS;
    mem.pins[pfn]++;
    mm.hasPinned = true;
  } else {
    mem.ref[pfn]++;
    mem.gets[pfn]++;
  }
  return true;
}

/** gup_put_folio (mm/gup.c): undo try_grab_folio (GUP-fast's re-check failed). In a step. */
function gup_put_folio(k: Kernel, pfn: number, flags: number): void {
  const mem = k.mem;
  if (mem.isZeroPage(pfn)) return;
  if (flags & FOLL_PIN) {
    mem.pins[pfn]--;
    mem.putPage(pfn, GUP_PIN_COUNTING_BIAS);
  } else {
    mem.gets[pfn]--;
    mem.putPage(pfn);
  }
}

/** The PTE checks of follow_page_pte / gup_fast_pte_range on a PTE value (f, pfn): pfn, or -1
 *  (not usable: fault or fall back). No reference taken. */
function pteUsable(f: number, pfn: number, flags: number): number {
  if (!(f & PTE_PRESENT)) return -1;
  if (flags & FOLL_WRITE && !(f & PTE_WRITE)) return -1;
  if (flags & FOLL_WRITE && f & PTE_SPECIAL) return -1;
  return pfn;
}

/** `!pte_write(pte) && gup_must_unshare(...)` (now): a read-only pin of an anon page that is not
 *  exclusive must unshare it first (a write PTE maps an exclusive page anyway). */
function mustUnshare(k: Kernel, f: number, pfn: number, flags: number): boolean {
  return k.era.gupUnshareRO && !(f & PTE_WRITE) && (flags & (FOLL_WRITE | FOLL_PIN)) === FOLL_PIN && (k.mem.flags[pfn] & (PG_ANON | PG_ANON_EXCLUSIVE)) === PG_ANON;
}

/** follow_page_pte's verdict for one page, under the PTL (inside a step): pfn, -1 (needs a fault)
 *  or -2 (must unshare first: -EMLINK, before any reference is taken). */
function followPage(k: Kernel, mm: Mm, vpn: number, flags: number): number {
  const f = mm.pteFlags[vpn];
  const pfn = pteUsable(f, mm.ptePfn[vpn], flags);
  if (pfn < 0) return pfn;
  if (mustUnshare(k, f, pfn, flags)) return -2;
  const mem = k.mem;
  if (!try_grab_folio(k, mm, pfn, flags)) return -1; // unreachable under the PTL (v6.x: -ENOMEM)
  if (flags & FOLL_TOUCH && !(mem.isZeroPage(pfn))) {
    if (flags & FOLL_WRITE && !(f & PTE_DIRTY)) mem.setFlag(pfn, PG_DIRTY);
    mem.setFlag(pfn, PG_REFERENCED);
  }
  return pfn;
}

/**
 * __get_user_pages / get_user_pages(_remote): caller holds mmap_lock for read. Fills pages[]
 * with pfns; returns the number of pages or -errno.
 */
export function* get_user_pages(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  return yield* kcall(k, flags & FOLL_PIN ? "pin_user_pages" : "get_user_pages", () => gupSlow(k, mm, start, n, flags | FOLL_TOUCH | (flags & FOLL_PIN ? 0 : FOLL_GET), pages));
}

function* gupSlow(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  let got = 0;
  for (let i = 0; i < n; i++) {
    const vpn = start + i;
    const vma = mm.findVma(vpn);
    // check_vma_flags.
    if (!vma || vma.flags & VM_PFNMAP) return got || EFAULT;
    if (flags & FOLL_WRITE && !(vma.flags & VM_WRITE) && !(flags & FOLL_FORCE)) return got || EFAULT;
    // writable_file_mapping_allowed (≈v6.5): no long-term write pin of dirty-tracked file pages.
    if (k.era.longtermRejectsFileWrite && flags & FOLL_LONGTERM && flags & FOLL_WRITE && vma.file?.dirtyTracked && vma.flags & VM_SHARED) {
      note("FOLL_LONGTERM|FOLL_WRITE on a dirty-tracked file mapping: -EFAULT");
      return got || EFAULT;
    }
    let pfn = -1;
    for (let tries = 0; tries < 4 && pfn < 0; tries++) {
      const r = yield* k.mem.fieldStep(`follow_page_pte(${mm.name}:${vpn})`, "w", () => followPage(k, mm, vpn, flags));
      if (r >= 0) {
        pfn = r;
        break;
      }
      // faultin_page
      const fr = yield* handle_mm_fault(k, mm, vpn, { write: (flags & FOLL_WRITE) !== 0, unshare: r === -2 });
      if (fr !== VM_FAULT_OK) return got || EFAULT;
    }
    if (pfn < 0) return got || EFAULT;
    pages.push(pfn);
    got++;
  }
  return got;
}

/**
 * __get_user_pages_fast (2018 name; gup_fast now): lockless, never faults. Returns how many
 * leading pages it got (possibly 0). Now, a pin (57efa1fe5957, v5.11; `if (gup_flags & FOLL_PIN)`,
 * so a FOLL_GET walk during fork's copy takes the page) samples write_protect_seq before the walk
 * and gives up if fork is copying (raw_seqcount_try_begin), and after the walk unpins everything
 * and returns 0 if the sequence moved (read_seqcount_retry): a fork anywhere in between undoes it.
 */
export function* __get_user_pages_fast(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  const __f = enter(k, "__get_user_pages_fast");
  try {
    const fl = flags | (flags & FOLL_PIN ? 0 : FOLL_GET);
    const seqCheck = k.era.writeProtectSeq && (fl & FOLL_PIN) !== 0;
    let seq = 0;
    let got = 0;
    for (let i = 0; i < n; i++) {
      const vpn = start + i;
      // READ_ONCE(*pmdp), then READ_ONCE(*ptep), with IRQs off and no PTL: both may change right after.
      const base = vpn - (vpn % HPAGE_NR);
      const snap = yield* k.mem.fieldStep(`gup_fast(${mm.name}:${vpn}): read PTE`, "r", () => {
        // The sample of write_protect_seq is taken with the first PTE read, the walk's first access.
        if (seqCheck && i === 0) {
          seq = mm.writeProtectSeq;
          if (seq & 1) return null;
        }
        const pmd = mm.pmdVal.get(base) ?? PMD_TABLE;
        if (pmd === PMD_NONE) return null; // pmd_none: fall back to the slow path
        const f = mm.pteFlags[vpn], pfn = pteUsable(f, mm.ptePfn[vpn], fl);
        return pfn < 0 ? null : { f, pfn, pmd };
      });
      if (!snap) break;
      // try_grab_folio, then the re-check: if the PTE changed since it was read, the reference may
      // be on a page that was unmapped (and perhaps freed and reused): put it back and fall back.
      const r = yield* k.mem.fieldStep(`gup_fast(${mm.name}:${vpn}): try_grab_folio, re-check PTE`, "w", () => {
        if (!try_grab_folio(k, mm, snap.pfn, fl)) return -1;
        if (planted(k, "gup-fast-no-recheck")) return snap.pfn;
        const pmd = mm.pmdVal.get(base) ?? PMD_TABLE;
        // The PTE this GUP-fast re-reads is in the table it walked: a detached one, if khugepaged
        // cleared the PMD meanwhile on a machine whose flush did not wait for us.
        const detached = !k.tlbFlushWaitsForGupFast && pmd !== snap.pmd && snap.pmd === PMD_TABLE;
        const d = detached ? mm.detachedPte.get(vpn) : undefined;
        const f = detached ? (d?.[0] ?? 0) : mm.pteFlags[vpn];
        const pfn = detached ? (d?.[1] ?? -1) : mm.ptePfn[vpn];
        if ((k.era.gupFastPmdRecheck && pmd !== snap.pmd) || f !== snap.f || pfn !== snap.pfn) {
          gup_put_folio(k, snap.pfn, fl);
          return -1;
        }
        // gup_must_unshare on the page as it is now, after the grab (gup_fast_pte_range).
        if (mustUnshare(k, snap.f, snap.pfn, fl)) {
          gup_put_folio(k, snap.pfn, fl);
          return -1;
        }
        return snap.pfn;
      });
      if (r < 0) break;
      pages.push(r);
      got++;
    }
    if (seqCheck && got > 0 && !planted(k, "gup-fast-no-recheck")) {
      const moved = yield* k.mem.fieldStep(`gup_fast(${mm.name}): read_seqcount_retry(write_protect_seq)`, "w", () => {
        if (mm.writeProtectSeq === seq) return false;
        // gup_fast_unpin_user_pages: every page this walk pinned.
        for (const pfn of pages.slice(pages.length - got)) gup_put_folio(k, pfn, fl);
        return true;
      });
      if (moved) {
        pages.length -= got;
        return 0;
      }
    }
    return got;
  } finally {
    leave(__f);
  }
}

/** get_user_pages_fast: the fast path, then the slow path (mmap_lock read) for the rest. */
export function* get_user_pages_fast(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  const __f = enter(k, flags & FOLL_PIN ? "pin_user_pages_fast" : "get_user_pages_fast");
  try {
    const got = yield* __get_user_pages_fast(k, mm, start, n, flags, pages);
    if (got === n) return n;
    yield* mm.mmapLock.downRead(`mmap_read_lock(${mm.name})`);
    const r = yield* gupSlow(k, mm, start + got, n - got, flags | FOLL_TOUCH | (flags & FOLL_PIN ? 0 : FOLL_GET), pages);
    yield* mm.mmapLock.upRead(`mmap_read_unlock(${mm.name})`);
    return r < 0 ? got || r : got + r;
  } finally {
    leave(__f);
  }
}

function requirePin(k: Kernel, what: string): void {
  if (!k.era.pinTracking) throw new Error(`${what} does not exist in era "${k.era.name}" (FOLL_PIN is v5.6+); use get_user_pages.`);
}

/** pin_user_pages (now): FOLL_PIN, caller holds mmap_lock read. */
export function* pin_user_pages(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  requirePin(k, "pin_user_pages");
  return yield* get_user_pages(k, mm, start, n, flags | FOLL_PIN, pages);
}

/** pin_user_pages_fast (now). */
export function* pin_user_pages_fast(k: Kernel, mm: Mm, start: number, n: number, flags: number, pages: number[]): Gen<number> {
  requirePin(k, "pin_user_pages_fast");
  return yield* get_user_pages_fast(k, mm, start, n, flags | FOLL_PIN, pages);
}

/** put_page: drop a FOLL_GET (or any plain) reference. Frees the page at zero. */
export function* put_page(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`put_page(${pfn})`, "w", () => {
    const mem = k.mem;
    if (mem.isZeroPage(pfn)) return;
    if (mem.gets[pfn] > 0) mem.gets[pfn]--;
    else if (mem.pins[pfn] > 0) finding("refcount", `put_page on frame ${pfn}, which holds pins but no GUP reference: FOLL_PIN must be released with unpin_user_page`, { pfn });
    mem.putPage(pfn);
  });
}

/** unpin_user_page (now): drop a FOLL_PIN. */
export function* unpin_user_page(k: Kernel, pfn: number): Gen<void> {
  requirePin(k, "unpin_user_page");
  yield* k.mem.fieldStep(`unpin_user_page(${pfn})`, "w", () => {
    const mem = k.mem;
    if (mem.isZeroPage(pfn)) return;
    if (mem.pins[pfn] === 0) {
      finding("refcount", `unpin_user_page on frame ${pfn}, which has no pin (a FOLL_GET reference must be released with put_page)`, { pfn });
      return;
    }
    mem.pins[pfn]--;
    mem.putPage(pfn, GUP_PIN_COUNTING_BIAS);
  });
}

/** unpin_user_pages: unpin_user_page on each. */
export function* unpin_user_pages(k: Kernel, pfns: readonly number[]): Gen<void> {
  const __f = enter(k, "unpin_user_pages");
  try {
    for (const pfn of pfns) yield* unpin_user_page(k, pfn);
  } finally {
    leave(__f);
  }
}

/**
 * unpin_user_pages_dirty_lock (now): for each page, if `dirty` and the page is not dirty yet (an
 * unlocked test: `!folio_test_dirty`), lock it, dirty it and unlock it; then unpin. A page that
 * is already dirty is not locked at all, so a caller that holds its lock (reclaim's try_to_unmap
 * reaching a notifier) does not deadlock on a page reclaim has just added to swap (dirty).
 */
export function* unpin_user_pages_dirty_lock(k: Kernel, pfns: readonly number[], dirty: boolean): Gen<void> {
  const __f = enter(k, "unpin_user_pages_dirty_lock");
  try {
    for (const pfn of pfns) {
      if (dirty && (yield* k.mem.fieldStep(`folio_test_dirty(${pfn})`, "r", () => !(k.mem.flags[pfn] & PG_DIRTY)))) yield* set_page_dirty_lock(k, pfn);
      yield* unpin_user_page(k, pfn);
    }
  } finally {
    leave(__f);
  }
}

/** The dirtying oracles, inside a step: dirty-no-buffers, dirty-after-return. */
function markDirty(k: Kernel, pfn: number, how: string): void {
  const mem = k.mem;
  if (mem.isZeroPage(pfn)) return;
  // A file page: the file's state is not recorded (field-log.ts), so a split step falls back.
  if (mem.mapping[pfn] >= 0) fieldTrip(mem.fields);
  const file = mem.mapping[pfn] >= 0 ? k.files[mem.mapping[pfn]] : null;
  if (file?.dirtyTracked && !(mem.flags[pfn] & PG_PRIVATE))
    finding("dirty-no-buffers", `${how} dirtied frame ${pfn} of ${file.name} after its buffers were released (ext4 writepage would BUG, or the data is never written back)`, { pfn, file: file.name });
  if (traced(k, "page_dirtied")) trace(k, "page_dirtied", { pfn, how });
  mem.setFlag(pfn, PG_DIRTY);
}

/** set_page_dirty: caller must hold the page lock or otherwise pin the mapping. */
export function* set_page_dirty(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`set_page_dirty(${pfn})`, "w", () => markDirty(k, pfn, "set_page_dirty"));
}

/** set_page_dirty_lock: lock_page, set_page_dirty, unlock_page. */
export function* set_page_dirty_lock(k: Kernel, pfn: number): Gen<void> {
  const __f = enter(k, "set_page_dirty_lock");
  try {
    yield* k.pageLock(pfn).lock();
    yield* k.mem.fieldStep(`set_page_dirty(${pfn})`, "w", () => markDirty(k, pfn, "set_page_dirty_lock"));
    yield* k.pageLock(pfn).unlock();
  } finally {
    leave(__f);
  }
}

/** mark_page_accessed: LRU aging only (aging is not modelled; kept for traces). */
export function* mark_page_accessed(k: Kernel, pfn: number): Gen<void> {
  yield* k.mem.fieldStep(`mark_page_accessed(${pfn})`, "w", () => {
    k.mem.setFlag(pfn, k.mem.flags[pfn] & PG_REFERENCED ? PG_ACTIVE : PG_REFERENCED);
  });
}
