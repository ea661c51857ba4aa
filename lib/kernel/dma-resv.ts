// Reservation objects (kernel-semantics §23): a ww_mutex of reservation_ww_class plus a fence
// list. Model of drivers/dma-buf/dma-resv.c now (dma_resv_lock, dma_resv_reserve_fences,
// dma_resv_add_fence, dma_resv_wait_timeout, dma_resv_test_signaled, dma_resv_lockdep) and of
// drivers/dma-buf/reservation.c at v4.16 (reservation_object_reserve_shared,
// reservation_object_add_shared_fence, reservation_object_add_excl_fence,
// reservation_object_wait_timeout_rcu).
//
// One list for both eras: 2018's exclusive fence is usage WRITE and its shared fences READ;
// adding an exclusive fence drops the shared ones, as reservation_object_add_excl_fence did.
// Usages are ordered KERNEL < WRITE < READ < BOOKKEEP; waiting for usage U waits for every fence
// with usage <= U. Readers (waits, tests) need no lock, as with RCU in the kernel.
//
// Checks: add_fence needs the lock held and a reserved slot (`resv-protocol`, the kernel's
// dma_resv_assert_held and the DEBUG max_fences check); taking the lock inside a fence
// signalling section is `fence-signalling` (device-oracles.ts). Adding a fence publishes it.
//
// Simplifications: one fence per context is kept as the kernel does (a later fence of the same
// context replaces the earlier one); no RCU retry loops in lockless readers (a reader sees one
// consistent snapshot: errs towards fewer reader races, which no scenario here depends on).

import { Obj, finding } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { GFP_KERNEL } from "./gfp.ts";
import { FS_RECLAIM, NOTIFIER_MAP } from "./lockdep.ts";
import { deviceEra, requireDev } from "./device-era.ts";
import { checkSignalling, dev_kmalloc } from "./device-oracles.ts";
import { DMA_FENCE_MAP, dma_fence_publish, dma_fence_wait, type DmaFence } from "./dma-fence.ts";
import { reservation_ww_class, ww_mutex_init, ww_mutex_lock, ww_mutex_lock_slow, ww_mutex_trylock, ww_mutex_unlock, type WwAcquireCtx, type WwMutex } from "./ww-mutex.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export type DmaResvUsage = "KERNEL" | "WRITE" | "READ" | "BOOKKEEP";
const RANK: Readonly<Record<DmaResvUsage, number>> = Object.freeze({ KERNEL: 0, WRITE: 1, READ: 2, BOOKKEEP: 3 });

export class DmaResv extends Obj {
  /** The ww_mutex (reservation_ww_class). Lock order: taken with the CS acquire context. */
  readonly lock: WwMutex;
  // ---- protected by `lock` for writers; read locklessly (RCU) ----
  readonly fences: { fence: DmaFence; usage: DmaResvUsage }[] = [];
  /** Slots reserved by reserve_fences since the lock was taken (reset at unlock, as DEBUG does). */
  reserved = 0;
  constructor(
    readonly k: Kernel,
    name: string,
  ) {
    super("resv", name);
    this.lock = ww_mutex_init(reservation_ww_class(k), `${name}.lock`);
  }
  step<T>(label: string, run: () => T, mode: "r" | "w" = "w"): Gen<T> {
    return this.access("resv", mode, { label, run });
  }
  /** Is it held by the running task? (dma_resv_assert_held) */
  heldByCurrent(): boolean {
    return this.lock.heldByThread(this.k.current().index);
  }
}

/** dma_resv_init / reservation_object_init. */
export function dma_resv_init(k: Kernel, name: string): DmaResv {
  return new DmaResv(k, name);
}

/** dma_resv_lock(obj, ctx): 0, -EALREADY, -EDEADLK. */
export function* dma_resv_lock(k: Kernel, obj: DmaResv, ctx: WwAcquireCtx | null): Gen<number> {
  checkSignalling(k.current(), () => `dma_resv_lock(${obj.name})`);
  return yield* ww_mutex_lock(k, obj.lock, ctx, `dma_resv_lock(${obj.name})`);
}
export function* dma_resv_lock_slow(k: Kernel, obj: DmaResv, ctx: WwAcquireCtx): Gen<void> {
  checkSignalling(k.current(), () => `dma_resv_lock_slow(${obj.name})`);
  yield* ww_mutex_lock_slow(k, obj.lock, ctx);
}
export function* dma_resv_trylock(k: Kernel, obj: DmaResv): Gen<boolean> {
  // A trylock cannot deadlock, but the rule forbids it too: the kernel's annotations see it.
  checkSignalling(k.current(), () => `dma_resv_trylock(${obj.name})`);
  return yield* ww_mutex_trylock(k, obj.lock, null);
}
export function* dma_resv_unlock(k: Kernel, obj: DmaResv): Gen<void> {
  yield* obj.step(`dma_resv_reset_max_fences(${obj.name})`, () => void (obj.reserved = 0));
  yield* ww_mutex_unlock(k, obj.lock);
}

function assertHeld(obj: DmaResv, what: string): boolean {
  if (obj.heldByCurrent()) return true;
  finding("resv-protocol", `${what} without holding ${obj.name}'s lock (dma_resv_assert_held)`, { resv: obj.name });
  return false;
}

/** dma_resv_reserve_fences(obj, n) (now): allocates with GFP_KERNEL; do it before publishing. */
export function* dma_resv_reserve_fences(k: Kernel, obj: DmaResv, n = 1): Gen<number> {
  requireDev(k, "resvUsages", "dma_resv_reserve_fences", "v5.19; 2018 used reservation_object_reserve_shared");
  return yield* reserve(k, obj, n, "dma_resv_reserve_fences");
}
/** reservation_object_reserve_shared (2018): one shared slot, GFP_KERNEL. */
export function* reservation_object_reserve_shared(k: Kernel, obj: DmaResv): Gen<number> {
  if (deviceEra(k).resvUsages) throw new Error(`reservation_object_reserve_shared does not exist in era "${k.era.name}" (renamed dma_resv in v5.4, usages in v5.19); use dma_resv_reserve_fences.`);
  return yield* reserve(k, obj, 1, "reservation_object_reserve_shared");
}
function* reserve(k: Kernel, obj: DmaResv, n: number, what: string): Gen<number> {
  const __k = enter(k, what);
  try {
    assertHeld(obj, what);
    if (!(yield* dev_kmalloc(k, GFP_KERNEL, `${what} krealloc`))) return -12;
    yield* obj.step(`${what}(${obj.name}, ${n})`, () => void (obj.reserved += n));
    return 0;
  } finally {
    leave(__k);
  }
}

/** dma_resv_add_fence(obj, fence, usage) (now). Needs the lock and a reserved slot. */
export function* dma_resv_add_fence(k: Kernel, obj: DmaResv, fence: DmaFence, usage: DmaResvUsage): Gen<void> {
  yield* add(k, obj, fence, usage, false, "dma_resv_add_fence");
}
/** reservation_object_add_shared_fence (2018). */
export function* reservation_object_add_shared_fence(k: Kernel, obj: DmaResv, fence: DmaFence): Gen<void> {
  yield* add(k, obj, fence, "READ", false, "reservation_object_add_shared_fence");
}
/** reservation_object_add_excl_fence (2018): replaces the exclusive fence and drops the shared ones. */
export function* reservation_object_add_excl_fence(k: Kernel, obj: DmaResv, fence: DmaFence): Gen<void> {
  yield* add(k, obj, fence, "WRITE", true, "reservation_object_add_excl_fence");
}
function* add(k: Kernel, obj: DmaResv, fence: DmaFence, usage: DmaResvUsage, excl: boolean, what: string): Gen<void> {
  assertHeld(obj, `${what}(${obj.name}, ${fence.name})`);
  yield* obj.step(`${what}(${obj.name}, ${fence.name}, ${usage})`, () => {
    if (excl) obj.fences.length = 0;
    else {
      if (obj.reserved <= 0) finding("resv-protocol", `${what}(${obj.name}, ${fence.name}) without a reserved slot (reserve_fences first)`, { resv: obj.name });
      else obj.reserved--;
    }
    // A fence of the same context replaces an entry only if that entry's usage is no stronger
    // (dma_resv_add_fence: `old->context == fence->context && old_usage >= usage`; in 2018 a
    // shared fence replaced only a shared one, never the exclusive fence).
    const same = obj.fences.findIndex((e) => e.fence.context === fence.context && RANK[e.usage] >= RANK[usage]);
    if (same >= 0) obj.fences.splice(same, 1);
    obj.fences.push({ fence, usage });
    dma_fence_publish(fence);
  });
}

/** The fences a wait for `usage` covers (a lockless snapshot; one read step). */
export function* dma_resv_fences(obj: DmaResv, usage: DmaResvUsage): Gen<DmaFence[]> {
  return yield* obj.step(`dma_resv_iter(${obj.name}, ${usage})`, () => obj.fences.filter((e) => RANK[e.usage] <= RANK[usage]).map((e) => e.fence), "r");
}

/** dma_resv_wait_timeout(obj, usage, intr, MAX_SCHEDULE_TIMEOUT): waits for every fence <= usage. */
export function* dma_resv_wait_timeout(k: Kernel, obj: DmaResv, usage: DmaResvUsage, intr = false): Gen<number> {
  const __k = enter(k, "dma_resv_wait_timeout");
  try {
    for (const f of yield* dma_resv_fences(obj, usage)) yield* dma_fence_wait(k, f, intr);
    return 1;
  } finally {
    leave(__k);
  }
}
/** reservation_object_wait_timeout_rcu(obj, wait_all, intr, timeout) (2018). */
export function* reservation_object_wait_timeout_rcu(k: Kernel, obj: DmaResv, waitAll: boolean, intr = false): Gen<number> {
  return yield* dma_resv_wait_timeout(k, obj, waitAll ? "BOOKKEEP" : "WRITE", intr);
}
/** dma_resv_test_signaled(obj, usage). */
export function* dma_resv_test_signaled(obj: DmaResv, usage: DmaResvUsage): Gen<boolean> {
  return (yield* dma_resv_fences(obj, usage)).every((f) => f.signalled);
}

/**
 * dma_resv_lockdep (boot, eras with resvLockdepPriming): records
 * mmap_lock -> reservation_ww_class_acquire -> reservation_ww_class_mutex -> fs_reclaim ->
 * (i_mmap_rwsem) -> mmu notifier map -> dma_fence_map, so any inversion of that order is
 * reported at once. Call in setup; a no-op in eras without it. Idempotent.
 */
export function dma_resv_lockdep(k: Kernel): void {
  if (!deviceEra(k).resvLockdepPriming) return;
  const mmap = k.era.name === "E18" ? "&mm->mmap_sem" : "&mm->mmap_lock";
  k.lockdep.prime([mmap, "reservation_ww_class_acquire", "reservation_ww_class_mutex", FS_RECLAIM, NOTIFIER_MAP, DMA_FENCE_MAP], "dma_resv_lockdep");
  k.lockdep.prime([FS_RECLAIM, "&mapping->i_mmap_rwsem"], "dma_resv_lockdep");
}
