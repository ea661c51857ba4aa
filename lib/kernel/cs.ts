// Command-submission building blocks (kernel-semantics §22, driver-designs §1.3, §4). Model of
// drivers/gpu/drm/ttm/ttm_execbuf_util.c at v4.16 (ttm_eu_reserve_buffers,
// ttm_eu_backoff_reservation, ttm_eu_fence_buffer_objects) and drivers/gpu/drm/ttm/ttm_bo.c
// (ttm_bo_validate -> ttm_bo_mem_space -> ttm_bo_mem_force_space -> ttm_mem_evict_first, and
// ttm_mem_evict_wait_busy of d367bd2a5e2b, v5.3; the LRU walker's ticketlock of ≈v6.12,
// ttm_bo_util.c ttm_lru_walk_ticketlock, when the device era has `ttmLruWalker`). Drivers compose these with their own userptr
// check (under their notifier lock, e.g. mmu_interval_read_retry), drm_sched_job_init and
// drm_sched_entity_push_job (gpu.ts).
//
// The VRAM manager is a fixed number of slots with an LRU; its state is one explorer object,
// changed in steps that stand for sections under ttm_bo_glob.lru_lock (a spinlock).
//
// Simplifications: the LRU walk's trylocks are separate steps after the walk's snapshot (in the
// kernel they run under the LRU spinlock): errs towards more interleavings. With the device era's
// ttmDelFromLru (v4.16) a reservation takes the BOs off the LRU and back-off or fencing puts the
// resident ones back, as ttm_eu_reserve_buffers/_backoff/_fence do; a BO validated into VRAM joins
// the LRU then, not at the move. Eviction moves to "system" after
// waiting for the BO's fences (no copy job, no move fence). amdgpu's -ENOMEM fallbacks (v4.16
// amdgpu_cs_bo_validate retrying with allowed_domains, amdgpu_cs_try_evict) are not modelled:
// errs towards more -ENOMEM findings.

import { Obj, finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { deviceEra } from "./device-era.ts";
import { type DmaFence } from "./dma-fence.ts";
import { dma_resv_add_fence, dma_resv_lock, dma_resv_lock_slow, dma_resv_reserve_fences, dma_resv_trylock, dma_resv_unlock, dma_resv_wait_timeout, reservation_object_add_excl_fence, reservation_object_add_shared_fence, reservation_object_reserve_shared, type DmaResv, type DmaResvUsage } from "./dma-resv.ts";
import { EALREADY, EBUSY, EDEADLK, ww_acquire_done, ww_acquire_fini, ww_acquire_init, reservation_ww_class, type WwAcquireCtx } from "./ww-mutex.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const ENOMEM = -12;
export const ENOSPC = -28;

/** A buffer object: its reservation and placement. placement changes only under its resv. */
export interface Bo {
  readonly name: string;
  readonly resv: DmaResv;
  placement: "vram" | "system";
  /** The VRAM manager it lives in while placement is "vram" (null otherwise). */
  mgr: VramManager | null;
}

/** VRAM: slots and an LRU, behind the LRU lock (this object's steps). */
export class VramManager extends Obj {
  free: number;
  readonly lru: Bo[] = [];
  /** Every BO resident here, on the LRU or not (a reserved one is off it with ttmDelFromLru). */
  readonly resident: Bo[] = [];
  constructor(name: string, slots: number) {
    super("vram", name);
    this.free = slots;
  }
  step<T>(label: string, run: () => T): Gen<T> {
    return this.access("lru", "w", { label, run });
  }
}

/** Setup helper: a BO, already resident in `mgr` if given (taking a slot). */
export function ttm_bo_create(name: string, resv: DmaResv, mgr: VramManager | null = null): Bo {
  const bo: Bo = { name, resv, placement: mgr ? "vram" : "system", mgr };
  if (mgr) {
    mgr.free--;
    mgr.lru.push(bo);
    mgr.resident.push(bo);
  }
  return bo;
}

/**
 * ttm_eu_reserve_buffers: lock every BO's resv with a fresh ticket, backing off on -EDEADLK
 * (unlock all, ww_mutex_lock_slow the contended one, move it to the head, go on). Returns the
 * ticket (ww_acquire_done called) and 0, or an error with nothing held.
 */
export function* ttm_eu_reserve_buffers(k: Kernel, bos: Bo[]): Gen<{ ret: number; ticket: WwAcquireCtx }> {
  const __k = enter(k, "ttm_eu_reserve_buffers");
  try {
    const ticket = yield* ww_acquire_init(k, reservation_ww_class(k));
    const held: Bo[] = [];
    for (let i = 0; i < bos.length; i++) {
      const bo = bos[i];
      if (held.includes(bo)) continue;
      const r = yield* dma_resv_lock(k, bo.resv, ticket);
      if (r === EALREADY) continue;
      if (r === EDEADLK) {
        for (const h of held.splice(0)) yield* dma_resv_unlock(k, h.resv);
        yield* dma_resv_lock_slow(k, bo.resv, ticket);
        held.push(bo);
        const s = deviceEra(k).resvUsages ? yield* dma_resv_reserve_fences(k, bo.resv, 1) : yield* reservation_object_reserve_shared(k, bo.resv);
        if (s !== 0) return { ret: s, ticket };
        bos.splice(i, 1);
        bos.unshift(bo);
        i = 0; // continue with the rest (the contended one is at the head, held)
        continue;
      }
      if (r !== 0) {
        for (const h of held.splice(0)) yield* dma_resv_unlock(k, h.resv);
        ww_acquire_fini(k, ticket);
        return { ret: r, ticket };
      }
      held.push(bo);
      const s = deviceEra(k).resvUsages ? yield* dma_resv_reserve_fences(k, bo.resv, 1) : yield* reservation_object_reserve_shared(k, bo.resv);
      if (s !== 0) return { ret: s, ticket };
    }
    // v4.16 ends acquisition here. Eviction with the ticket (v5.3) locks after it, so the model
    // drops ww_acquire_done in that era (unverified which commit removed it from TTM).
    if (!deviceEra(k).ttmEvictWaitBusy) ww_acquire_done(ticket);
    // v4.16: ttm_eu_del_from_lru_locked(list), under the LRU lock: no eviction walk meets them.
    if (deviceEra(k).ttmDelFromLru) yield* lruSection(bos, "ttm_eu_del_from_lru_locked", (m, bo) => {
      const i = m.lru.indexOf(bo);
      if (i >= 0) m.lru.splice(i, 1);
    });
    return { ret: 0, ticket };
  } finally {
    leave(__k);
  }
}

/** One LRU-lock section over the managers of `bos` (one step per manager). */
function* lruSection(bos: readonly Bo[], label: string, f: (m: VramManager, bo: Bo) => void): Gen<void> {
  const mgrs: VramManager[] = [];
  for (const bo of bos) if (bo.mgr !== null && !mgrs.includes(bo.mgr)) mgrs.push(bo.mgr);
  for (const m of mgrs) yield* m.step(label, () => { for (const bo of bos) if (bo.mgr === m) f(m, bo); });
}

/** v4.16's ttm_bo_add_to_lru for the held, resident BOs of a back-off or a fence (before unreserve). */
function* readdToLru(k: Kernel, ticket: WwAcquireCtx, bos: readonly Bo[]): Gen<void> {
  if (!deviceEra(k).ttmDelFromLru) return;
  yield* lruSection(bos.filter((b) => b.resv.lock.heldByCtx(ticket)), "ttm_bo_add_to_lru", (m, bo) => {
    if (bo.placement === "vram" && !m.lru.includes(bo)) m.lru.push(bo);
  });
}

/** ttm_eu_backoff_reservation: unlock all, end the ticket. */
export function* ttm_eu_backoff_reservation(k: Kernel, ticket: WwAcquireCtx, bos: readonly Bo[]): Gen<void> {
  const __k = enter(k, "ttm_eu_backoff_reservation");
  try {
    yield* readdToLru(k, ticket, bos);
    for (const bo of bos) if (bo.resv.lock.heldByCtx(ticket)) yield* dma_resv_unlock(k, bo.resv);
    ww_acquire_fini(k, ticket);
  } finally {
    leave(__k);
  }
}

/**
 * ttm_eu_fence_buffer_objects: add the job fence to every BO (shared/READ or exclusive/WRITE),
 * unlock all, end the ticket. From the first add the fence is visible: its signalling section
 * has begun.
 */
export function* ttm_eu_fence_buffer_objects(k: Kernel, ticket: WwAcquireCtx, bos: readonly Bo[], fence: DmaFence, usage: DmaResvUsage = "READ"): Gen<void> {
  const __k = enter(k, "ttm_eu_fence_buffer_objects");
  try {
    const now = deviceEra(k).resvUsages;
    for (const bo of bos) {
      if (now) yield* dma_resv_add_fence(k, bo.resv, fence, usage);
      else if (usage === "READ" || usage === "BOOKKEEP") yield* reservation_object_add_shared_fence(k, bo.resv, fence);
      else yield* reservation_object_add_excl_fence(k, bo.resv, fence);
    }
    yield* readdToLru(k, ticket, bos);
    for (const bo of bos) if (bo.resv.lock.heldByCtx(ticket)) yield* dma_resv_unlock(k, bo.resv);
    ww_acquire_fini(k, ticket);
  } finally {
    leave(__k);
  }
}

/**
 * ttm_bo_validate(bo, VRAM) with the CS ticket: 0, -ENOMEM (no space; 2018 also when only busy
 * BOs could have been evicted; v5.3–v6.11 when the wait-busy lock hit -EDEADLK; ≈v6.12 when the
 * ticket walk hit it: `cs-enomem-evictable`), or -EBUSY only under the what-if `ttmPassesBackoff`
 * (the caller must back off and restart). Caller holds bo's resv.
 */
export function* ttm_bo_validate(k: Kernel, bo: Bo, mgr: VramManager, ticket: WwAcquireCtx): Gen<number> {
  const __k = enter(k, "ttm_bo_validate");
  try {
    if (bo.placement === "vram") return 0;
    // ttm_bo_mem_force_space's `do { … } while (1)`: no pass count. Every pass finds space, evicts
    // a BO or waits for one; the other submitters' restarts are finite in every scenario, so the
    // loop ends (one that did not would be cut at the step bound and decide nothing).
    for (;;) {
      const delFromLru = deviceEra(k).ttmDelFromLru;
      const got = yield* mgr.step(`ttm_bo_mem_space(${bo.name})`, () => {
        if (mgr.free <= 0) return false;
        mgr.free--;
        if (!delFromLru) mgr.lru.push(bo); // v4.16: the BO joins the LRU at back-off or fencing
        mgr.resident.push(bo);
        bo.placement = "vram";
        bo.mgr = mgr;
        return true;
      });
      if (got) return 0;
      const r = yield* ttm_mem_evict_first(k, mgr, bo, ticket);
      // ≈v6.12: ttm_bo_alloc_resource returns the evicting pass's -ENOSPC at once; ttm_bo_validate
      // (whose force_space pass was this one) leaves its loop and returns -ENOMEM "for backward
      // compatibility with userspace".
      if (r === ENOSPC) {
        finding("cs-enomem-evictable", `ttm_bo_validate(${bo.name}) fails with -ENOMEM: the LRU walk's ticketlock got -EDEADLK and returned -ENOSPC instead of backing off`, { bo: bo.name });
        return ENOMEM;
      }
      // v5.3–v6.11: ttm_mem_evict_wait_busy's -EBUSY (its lock got -EDEADLK) goes back through
      // ttm_bo_mem_force_space, and ttm_bo_mem_space turns every -EBUSY into -ENOMEM
      // ("if (ret && ret != -EBUSY) goto error; ... ret = -ENOMEM"): nobody backs off. Only the
      // what-if TTM that passes the rollback up (ttmPassesBackoff) returns -EBUSY to the driver.
      if (r === EBUSY && !deviceEra(k).ttmPassesBackoff) {
        finding("cs-enomem-evictable", `ttm_bo_validate(${bo.name}) fails with -ENOMEM: ttm_mem_evict_wait_busy got -EDEADLK, returned -EBUSY, and ttm_bo_mem_space reported -ENOMEM`, { bo: bo.name });
        return ENOMEM;
      }
      if (r !== 0) return r;
    }
  } finally {
    leave(__k);
  }
}

/** ttm_mem_evict_first: trylock-only LRU walk; v5.3, wait for a busy BO with the ticket; ≈v6.12, lock it with the ticket and evict it. */
export function* ttm_mem_evict_first(k: Kernel, mgr: VramManager, forBo: Bo, ticket: WwAcquireCtx): Gen<number> {
  const __k = enter(k, "ttm_mem_evict_first");
  try {
    // offLru: resident BOs the walk cannot see, i.e. reserved ones with ttmDelFromLru (v4.16). Only
    // for the oracle below: v4.16's TTM never learns of them.
    const { cands, offLru } = yield* mgr.step("LRU walk (lru_lock)", () => ({
      cands: mgr.lru.filter((b) => b !== forBo),
      offLru: mgr.resident.filter((b) => b !== forBo && !mgr.lru.includes(b)),
    }));
    let busy: Bo | null = null;
    for (const c of cands) {
      if (c.resv.lock.heldByCtx(ticket)) continue; // ours: not evictable without allow_reserved_eviction
      if (!(yield* dma_resv_trylock(k, c.resv))) {
        busy ??= c;
        continue;
      }
      yield* ttm_bo_evict(k, mgr, c);
      yield* dma_resv_unlock(k, c.resv);
      return 0;
    }
    if (busy && deviceEra(k).ttmLruWalker) return yield* ttm_lru_walk_ticketlock(k, mgr, busy, ticket);
    if (busy && deviceEra(k).ttmEvictWaitBusy) return yield* ttm_mem_evict_wait_busy(k, busy, ticket);
    // A BO held by another submission (busy on the LRU, or off it because reserved) could have
    // been evicted after waiting for its reservation. Our own are excluded: only this thread
    // changes what this ticket holds.
    const waitable = busy ?? offLru.find((b) => !b.resv.lock.heldByCtx(ticket)) ?? null;
    if (waitable) finding("cs-enomem-evictable", `ttm_bo_validate(${forBo.name}) fails with -ENOMEM although ${waitable.name} could have been evicted after waiting for its reservation`, { bo: forBo.name, busy: waitable.name });
    return ENOMEM;
  } finally {
    leave(__k);
  }
}

/**
 * The LRU walker's second, ticketed pass (≈v6.12; ttm_bo.c ttm_bo_evict_alloc with
 * trylock_only = false, ttm_bo_util.c ttm_lru_walk_ticketlock): lock the busy BO with the CS
 * ticket and evict it while holding it. -EDEADLK is turned into -ENOSPC ("Caller needs to exit the
 * ww transaction"), which nobody up the stack turns back into a back-off. A posted series (Natalie
 * Vock and Christian König, "drm/ttm: support using drm_exec during eviction", 2026, merge not
 * verified) passes -EDEADLK through when ctx->exec is set; not modelled.
 */
export function* ttm_lru_walk_ticketlock(k: Kernel, mgr: VramManager, busy: Bo, ticket: WwAcquireCtx): Gen<number> {
  const __k = enter(k, "ttm_lru_walk_ticketlock");
  try {
    const r = yield* dma_resv_lock(k, busy.resv, ticket);
    if (r === EDEADLK) return ENOSPC;
    if (r !== 0) return r === EALREADY ? 0 : r;
    // The walker re-checks that the BO is still on this manager's LRU after the sleeping lock.
    if (busy.placement === "vram") yield* ttm_bo_evict(k, mgr, busy);
    yield* dma_resv_unlock(k, busy.resv);
    return 0;
  } finally {
    leave(__k);
  }
}

/** ttm_mem_evict_wait_busy (d367bd2a5e2b as v5.3 released it, after Kuehling's "drm/ttm: return
 *  -EBUSY if waiting for busy BO fails"; as first merged it returned -EAGAIN): lock the busy BO
 *  with the ticket, unlock, retry; -EDEADLK is returned as -EBUSY. */
export function* ttm_mem_evict_wait_busy(k: Kernel, busy: Bo, ticket: WwAcquireCtx): Gen<number> {
  const __k = enter(k, "ttm_mem_evict_wait_busy");
  try {
    const r = yield* dma_resv_lock(k, busy.resv, ticket);
    if (r === 0) yield* dma_resv_unlock(k, busy.resv);
    // -EDEADLK becomes -EBUSY, which ttm_bo_mem_space then reports as -ENOMEM (ttm_bo_validate).
    if (r === EDEADLK) return EBUSY;
    return r === EALREADY ? 0 : r;
  } finally {
    leave(__k);
  }
}

/** ttm_bo_evict: wait for the BO to be idle, move it out of VRAM. Caller holds its resv. */
export function* ttm_bo_evict(k: Kernel, mgr: VramManager, bo: Bo): Gen<void> {
  const __k = enter(k, "ttm_bo_evict");
  try {
    yield* dma_resv_wait_timeout(k, bo.resv, "BOOKKEEP");
    yield* mgr.step(`ttm_bo_evict(${bo.name}) -> system`, () => {
      const i = mgr.lru.indexOf(bo);
      if (i >= 0) mgr.lru.splice(i, 1);
      const r = mgr.resident.indexOf(bo);
      if (r >= 0) mgr.resident.splice(r, 1);
      mgr.free++;
      bo.placement = "system";
      bo.mgr = null;
      note(`${bo.name} evicted`);
    });
  } finally {
    leave(__k);
  }
}
