// Era switches of the device half (kernel-semantics §1 rows for IOMMU, fences, dma_resv, ww_mutex,
// dma-buf; §30). They are not fields of `Era` (era.ts belongs to the mm half), so each kernel gets
// a DeviceEra derived from its Era: E18-like eras (no fence annotations) get DEV18, later ones
// DEVNOW. `deviceEra(k, {...})` in a model's setup overrides single switches on purpose.
// TODO(merge): these belong in era.ts; the derivation from `fenceLockdep` is the only coupling.

import type { Kernel } from "./kernel.ts";

export interface DeviceEra {
  readonly name: string;
  /** dma_fence_begin/end_signalling, __dma_fence_might_wait, dma_fence_map (≈v5.9). */
  readonly fenceAnnotations: boolean;
  /** dma_resv_lockdep() boot priming: mmap_lock -> resv -> fs_reclaim -> ... -> fence map (v5.5–v5.10 growing). */
  readonly resvLockdepPriming: boolean;
  /** enum dma_resv_usage and dma_resv_reserve_fences (v5.19). false = 2018 reservation_object:
   *  one exclusive fence plus shared fences, reservation_object_reserve_shared. */
  readonly resvUsages: boolean;
  /** DEFINE_WW_CLASS wound-wait exists (v4.19). 2018: wait-die only. */
  readonly woundWait: boolean;
  /** dma_buf_dynamic_attach + move_notify (v5.7, bb42df4662a4). */
  readonly dynamicDmaBuf: boolean;
  /** dma-buf locking convention (≈v6.2): importer holds the resv for map/unmap/pin, exporter
   *  map/unmap/pin callbacks are called locked. 2018: map is called unlocked and the exporter
   *  locks inside its own callback. */
  readonly dmaBufResvConvention: boolean;
  /** TTM eviction waits on a busy BO with the CS ticket (ttm_mem_evict_wait_busy, d367bd2a5e2b, v5.3). */
  readonly ttmEvictWaitBusy: boolean;
  /** ttm_eu_reserve_buffers takes the BOs it reserved off their LRU (ttm_eu_del_from_lru_locked)
   *  until back-off or fencing puts them back (v4.16); optional since "drm/ttm: Make LRU removal
   *  optional v2" (6e58ab7ac7fa, v5.3), and amdgpu stopped removing them in the same release. */
  readonly ttmDelFromLru: boolean;
  /** TTM evicts through the LRU walker (ttm_bo_evict_alloc -> ttm_lru_walk_for_evict, Thomas
   *  Hellström's "drm/ttm: Use the LRU walker for eviction", ≈v6.12): the ticket walk locks one busy
   *  BO and evicts it, but its -EDEADLK becomes -ENOSPC ("Caller needs to exit the ww
   *  transaction"), which ttm_bo_validate reports as -ENOMEM. Needs ttmEvictWaitBusy. false = the
   *  v5.3–v6.11 ttm_mem_evict_wait_busy, whose -EDEADLK became -EBUSY and, in ttm_bo_mem_space,
   *  -ENOMEM all the same. */
  readonly ttmLruWalker: boolean;
  /** What-if only, no release has it: TTM hands the ww rollback back to the driver (-EBUSY from
   *  ttm_bo_validate, the caller backs off and restarts) instead of reporting -ENOMEM, as Thomas
   *  Hellström's RFC "drm/ttm: Allow the driver to resolve a WW transaction rollback" (2023) and
   *  the 2026 drm_exec eviction series propose. It was briefly merged once: d367bd2a5e2b returned
   *  -EAGAIN for libdrm to restart, until Felix Kuehling's "drm/ttm: return -EBUSY if waiting for
   *  busy BO fails" (same v5.3 pull) took it back because amdgpu_cs live-locked on the restarts. */
  readonly ttmPassesBackoff: boolean;
}

export const DEV18: DeviceEra = Object.freeze({
  name: "E18",
  fenceAnnotations: false,
  resvLockdepPriming: false,
  resvUsages: false,
  woundWait: false,
  dynamicDmaBuf: false,
  dmaBufResvConvention: false,
  ttmEvictWaitBusy: false,
  ttmDelFromLru: true,
  ttmLruWalker: false,
  ttmPassesBackoff: false,
});

export const DEVNOW: DeviceEra = Object.freeze({
  name: "now",
  fenceAnnotations: true,
  resvLockdepPriming: true,
  resvUsages: true,
  woundWait: true,
  dynamicDmaBuf: true,
  dmaBufResvConvention: true,
  ttmEvictWaitBusy: true,
  ttmDelFromLru: false,
  ttmLruWalker: true,
  ttmPassesBackoff: false,
});

/** The device era of kernel k; with `changes`, set it (call in setup, before any device op). */
export function deviceEra(k: Kernel, changes?: Partial<Omit<DeviceEra, "name">>): DeviceEra {
  // Kept on the kernel (per execution; see Kernel.devEra for why not a WeakMap).
  let d = k.devEra;
  if (!d) d = k.devEra = k.era.fenceLockdep ? DEVNOW : DEV18;
  if (changes) {
    d = Object.freeze({ ...d, ...changes, name: `${d.name}+${Object.keys(changes).join("+")}` });
    k.devEra = d;
  }
  return d;
}

/** Throw (a model error, not a finding) when a design uses an API its era does not have. */
export function requireDev(k: Kernel, sw: keyof Omit<DeviceEra, "name">, what: string, since: string): void {
  if (!deviceEra(k)[sw]) throw new Error(`${what} does not exist in era "${k.era.name}" (${since}); use the era's API or set deviceEra(k, { ${sw}: true }).`);
}
