// GFP flags, allocation contexts and the entry into direct reclaim (kernel-semantics §13, §15).
// Model of include/linux/gfp.h (2018) / gfp_types.h (now), include/linux/sched/mm.h
// (current_gfp_context, memalloc_nofs_save/noio_save), mm/page_alloc.c (prepare_alloc_pages,
// fs_reclaim_acquire, __need_reclaim, __perform_reclaim, __alloc_pages_slowpath) and mm/slab.h
// (slab_pre_alloc_hook).
//
// Whether an allocation enters direct reclaim is the explorer's choice (chapters.md §0.5), under
// the kernel's BootOptions.reclaim policy. When it does, reclaim runs IN the allocating task:
// PF_MEMALLOC set, fs_reclaim held for lockdep (if __GFP_FS), then try_to_free_pages (LRU pages,
// whose mapped ones are unmapped with notifier calls, then shrinkers). Note that GFP_NOFS and
// GFP_NOIO still reclaim clean mapped pages, so notifiers are reachable from them, while the
// era's lockdep takes fs_reclaim only for __GFP_FS (kernel-semantics §30).

import { choose, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import { FS_RECLAIM, NOTIFIER_MAP } from "./lockdep.ts";
import type { Task } from "./task.ts";
import { mightSleep } from "./task.ts";
import { try_to_free_pages } from "./vmscan.ts";

export const __GFP_IO = 1 << 0;
export const __GFP_FS = 1 << 1;
export const __GFP_DIRECT_RECLAIM = 1 << 2;
export const __GFP_KSWAPD_RECLAIM = 1 << 3;
export const __GFP_HIGH = 1 << 4;
export const __GFP_NORETRY = 1 << 5;
export const __GFP_RETRY_MAYFAIL = 1 << 6;
export const __GFP_NOFAIL = 1 << 7;
export const __GFP_NOWARN = 1 << 8;
export const __GFP_NOLOCKDEP = 1 << 9;
export const __GFP_MOVABLE = 1 << 10;
export const __GFP_COMP = 1 << 11;
export const __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM;

export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_NOFS = __GFP_RECLAIM | __GFP_IO;
export const GFP_NOIO = __GFP_RECLAIM;
export const GFP_NOWAIT = __GFP_KSWAPD_RECLAIM;
export const GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM;
export const GFP_HIGHUSER_MOVABLE = GFP_KERNEL | __GFP_MOVABLE;
/** GFP_TRANSHUGE (khugepaged): direct reclaim/compaction, no kswapd wake. */
export const GFP_TRANSHUGE = (GFP_HIGHUSER_MOVABLE | __GFP_COMP | __GFP_NOWARN) & ~__GFP_KSWAPD_RECLAIM;

/** BootOptions.reclaim: see kernel.ts. */
export type ReclaimPolicy = "never" | "choose" | "always";

/** Frozen all the way down: lib/ keeps no module state (test/build/module-state.test.ts). */
const pair = (v: number, n: string) => Object.freeze([v, n] as const);
const NAMES = Object.freeze([
  pair(GFP_KERNEL, "GFP_KERNEL"),
  pair(GFP_NOFS, "GFP_NOFS"),
  pair(GFP_NOIO, "GFP_NOIO"),
  pair(GFP_ATOMIC, "GFP_ATOMIC"),
  pair(GFP_NOWAIT, "GFP_NOWAIT"),
]);
const MODS = Object.freeze([
  pair(__GFP_NORETRY, "__GFP_NORETRY"),
  pair(__GFP_RETRY_MAYFAIL, "__GFP_RETRY_MAYFAIL"),
  pair(__GFP_NOFAIL, "__GFP_NOFAIL"),
  pair(__GFP_NOWARN, "__GFP_NOWARN"),
  pair(__GFP_NOLOCKDEP, "__GFP_NOLOCKDEP"),
]);

/** "GFP_KERNEL|__GFP_NORETRY" etc. */
export function gfpName(gfp: number): string {
  const base = gfp & (__GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HIGH);
  const hit = NAMES.find(([v]) => v === base);
  const parts = [hit ? hit[1] : `gfp(0x${base.toString(16)})`];
  for (const [v, n] of MODS) if (gfp & v) parts.push(n);
  return parts.join("|");
}

/** current_gfp_context(): the NOFS/NOIO scopes strip __GFP_FS / __GFP_IO. */
export function current_gfp_context(t: Task, gfp: number): number {
  if (t.noio > 0) return gfp & ~(__GFP_IO | __GFP_FS);
  if (t.nofs > 0) return gfp & ~__GFP_FS;
  return gfp;
}

/** memalloc_nofs_save / restore, memalloc_noio_save / restore. */
export function memalloc_nofs_save(k: Kernel): void {
  k.current().nofs++;
}
export function memalloc_nofs_restore(k: Kernel): void {
  k.current().nofs--;
}
export function memalloc_noio_save(k: Kernel): void {
  k.current().noio++;
}
export function memalloc_noio_restore(k: Kernel): void {
  k.current().noio--;
}

/** __need_reclaim (now) / __need_fs_reclaim's first tests: may this allocation direct-reclaim? */
function needReclaim(t: Task, gfp: number): boolean {
  return (gfp & __GFP_DIRECT_RECLAIM) !== 0 && t.memalloc === 0 && (gfp & __GFP_NOLOCKDEP) === 0;
}

/** fs_reclaim_acquire(gfp) (mm/page_alloc.c): lockdep only. */
export function fs_reclaim_acquire(k: Kernel, gfp: number): void {
  const t = k.current();
  gfp = current_gfp_context(t, gfp);
  if (!needReclaim(t, gfp)) return;
  if (gfp & __GFP_FS && k.era.fsReclaimMap) k.lockdep.mapAcquire(t, FS_RECLAIM);
  // ≈v5.11: every reclaiming allocation may call notifiers (clean pages are unmapped even
  // under NOFS/NOIO), so lockdep is told so, whatever __GFP_FS says.
  if (k.era.notifierMapInFsReclaim) k.lockdep.touch(t, NOTIFIER_MAP);
}
export function fs_reclaim_release(k: Kernel, gfp: number): void {
  const t = k.current();
  gfp = current_gfp_context(t, gfp);
  if (!needReclaim(t, gfp)) return;
  if (gfp & __GFP_FS && k.era.fsReclaimMap) k.lockdep.mapRelease(t, FS_RECLAIM);
}

/**
 * might_alloc / the allocation prologue: the context rules (an allocation that may direct-
 * reclaim may sleep) and the lockdep annotation, then, by the explorer's choice, direct reclaim.
 * Returns false if the allocation fails (only when BootOptions.allocMayFail allows it).
 */
function* allocPrologue(k: Kernel, gfp: number, what: string): Generator<Yieldable, boolean, unknown> {
  const t = k.current();
  const eff = current_gfp_context(t, gfp);
  if (eff & __GFP_DIRECT_RECLAIM) mightSleep(t, () => `${what}(${gfpName(gfp)})`);
  fs_reclaim_acquire(k, eff);
  fs_reclaim_release(k, eff);
  const canReclaim = (eff & __GFP_DIRECT_RECLAIM) !== 0 && t.memalloc === 0;
  if (canReclaim && k.reclaim !== "never") {
    const go = k.reclaim === "always" ? true : yield* choose(`${what}(${gfpName(gfp)}) enters direct reclaim`, [false, true]);
    if (go) yield* __perform_reclaim(k, eff);
  }
  if (k.allocMayFail && !(eff & __GFP_NOFAIL) && (eff & (__GFP_NORETRY | __GFP_RETRY_MAYFAIL) || !(eff & __GFP_DIRECT_RECLAIM))) {
    const fail = yield* choose(`${what}(${gfpName(gfp)}) fails`, [false, true]);
    if (fail) {
      note(`${what} failed (-ENOMEM)`);
      return false;
    }
  }
  return true;
}

/** __perform_reclaim (mm/page_alloc.c): PF_MEMALLOC set, fs_reclaim held (v4.18+ only), try_to_free_pages. */
export function* __perform_reclaim(k: Kernel, gfp: number): Generator<Yieldable, void, unknown> {
  const __f = enter(k, "__perform_reclaim");
  try {
    const t = k.current();
    // v4.18+ takes fs_reclaim first, then PF_MEMALLOC. v4.16 did it the other way round
    // (memalloc_noreclaim_save; fs_reclaim_acquire), so the acquire saw PF_MEMALLOC and bailed.
    const held = k.era.fsReclaimHeldInReclaim;
    if (held) fs_reclaim_acquire(k, gfp);
    t.memalloc++;
    try {
      yield* try_to_free_pages(k, gfp);
    } finally {
      t.memalloc--;
      if (held) fs_reclaim_release(k, gfp);
    }
  } finally {
    leave(__f);
  }
}

/** kmalloc(size, gfp): the slab object itself is not modelled, only what allocating may do.
 *  Returns false on (explored) failure. */
export function* kmalloc(k: Kernel, gfp: number, what = "kmalloc"): Generator<Yieldable, boolean, unknown> {
  return yield* kcall(k, what, () => allocPrologue(k, gfp, what));
}

/** alloc_page(gfp): a fresh frame (ref 1, zeroed) or -1 on failure / exhaustion. */
export function* alloc_page(k: Kernel, gfp: number, what = "alloc_page"): Generator<Yieldable, number, unknown> {
  const __f = enter(k, what);
  try {
    if (!(yield* allocPrologue(k, gfp, what))) return -1;
    // Split (field footprints): allocFrame touches only the free list and the frame's own arrays.
    return yield* k.mem.fieldStep(`${what}: take a free frame`, "w", () => {
      const pfn = k.mem.allocFrame();
      note(pfn < 0 ? "out of memory" : `frame ${pfn} allocated`);
      return pfn;
    });
  } finally {
    leave(__f);
  }
}
