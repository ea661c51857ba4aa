// The era: one switch per behaviour that changed between v4.16 ("E18") and v6.x ("now").
// kernel-semantics.md §1 is the table; §30 and chapters.md §5 add rows it lacked.
// Every operation in lib/kernel reads its era-dependent decision from here, so a test
// can run one scenario in both eras or flip a single switch on purpose (`era(E18, {...})`).

export interface Era {
  /** Short name used in findings and reports ("E18", "now", or a custom mix). */
  readonly name: string;

  // ---- MMU notifiers (mm/mmu_notifier.c, include/linux/mmu_notifier.h) ----
  /** Per-call `MMU_NOTIFIER_RANGE_BLOCKABLE` and start may return -EAGAIN (v4.19/v5.0).
   *  false = 2018: start is void; "may it block" is the per-ops MMU_INVALIDATE_DOES_NOT_BLOCK flag. */
  readonly notifierBlockableArg: boolean;
  /** `enum mmu_notifier_event` + owner on the range (v5.0–v5.9). */
  readonly notifierEvent: boolean;
  /** mmu_interval_notifier with read_begin/read_retry/set_seq (v5.5). */
  readonly intervalNotifier: boolean;
  /** v4.16 HMM: the mirror's sync_cpu_device_pagetables runs from range_end (moved to start ≈v4.20). */
  readonly hmmInvalidateAtEnd: boolean;
  /** Lockdep map `__mmu_notifier_invalidate_range_start_map` around start/end (v5.4). */
  readonly notifierLockdepMap: boolean;
  /** Registration primes fs_reclaim -> notifier map (66204f1d2d1b, v5.4–v5.10 only). */
  readonly notifierRegistrationPriming: boolean;
  /** fs_reclaim_acquire touches the notifier map for every reclaiming allocation,
   *  NOFS/NOIO included (≈v5.11, "mm: Track mmu notifiers in fs_reclaim_acquire/release"). */
  readonly notifierMapInFsReclaim: boolean;
  /** 2018 `->invalidate_range` (secondary TLB op, called under the PTL); renamed
   *  arch_invalidate_secondary_tlbs in v6.6. Both exist; kept for trace naming. */
  readonly secondaryTlbOpName: "invalidate_range" | "arch_invalidate_secondary_tlbs";

  // ---- lockdep (kernel/locking/lockdep.c, mm/page_alloc.c) ----
  /** `fs_reclaim` map for __GFP_FS allocations and direct reclaim (v4.14). */
  readonly fsReclaimMap: boolean;
  /** Reclaim itself holds `fs_reclaim` (direct reclaim and kswapd). Before 93781325da6e07af
   *  "lockdep: fix fs_reclaim annotation" (v4.18-rc1), __perform_reclaim and kswapd set
   *  PF_MEMALLOC *before* fs_reclaim_acquire, whose __need_fs_reclaim then bailed: in v4.16 the
   *  map was touched only at allocation sites, never held across reclaim. */
  readonly fsReclaimHeldInReclaim: boolean;
  /** Work / workqueue lockdep maps in flush_work / flush_workqueue: absent v4.15–v4.18 (§30). */
  readonly wqFlushLockdep: boolean;
  /** flush_work touches the work's map only when the work is pending or running (after
   *  start_flush_work's already_gone return): c35aea39d1e1 "workqueue: Update lock debugging
   *  code" (v6.9). Before, __flush_work touched it for an idle work too. */
  readonly wqFlushWorkMapWhenBusy: boolean;
  /** cancel_work_sync does not run check_flush_dependency: de35994ecd2d "workqueue: Do not warn
   *  when cancelling WQ_MEM_RECLAIM work from !WQ_MEM_RECLAIM worker" (Dec 2024, v6.13, stable). */
  readonly wqCancelSkipsFlushDependency: boolean;
  /** dma_fence_begin/end_signalling + __dma_fence_might_wait (≈v5.9). Device half reads it. */
  readonly fenceLockdep: boolean;

  // ---- GUP and COW (mm/gup.c, mm/memory.c, kernel/fork.c) ----
  /** FOLL_PIN / GUP_PIN_COUNTING_BIAS / pin_user_pages (v5.6/v5.7). false = GUP is a plain ref. */
  readonly pinTracking: boolean;
  /** FOLL_LONGTERM|FOLL_WRITE refused on writable dirty-tracked file VMAs (≈v6.5). */
  readonly longtermRejectsFileWrite: boolean;
  /** fork gives the child an immediate copy of a maybe-pinned anon page (v5.9; MMF_HAS_PINNED). */
  readonly forkEarlyCopyPinned: boolean;
  /** do_wp_page reuse rule: "mapcount" = 2018 reuse_swap_page (map+swap count == 1, extra GUP refs
   *  ignored); "exclusive" = now (PageAnonExclusive, else refcount == 1). */
  readonly cowReuse: "mapcount" | "exclusive";
  /** GUP of a shared anon page for read unshares first (FAULT_FLAG_UNSHARE, v5.19). */
  readonly gupUnshareRO: boolean;
  /** vmscan / try_to_unmap_one refuse to swap out a maybe-pinned anon page. Two commits, one
   *  switch: vmscan's half (no maybe-pinned page into the swap cache) is feb889fb40fa "mm: don't
   *  put pinned pages into the swap cache" (v5.11); try_to_unmap_one's (an exclusive maybe-pinned
   *  page is not unmapped, PG_anon_exclusive) is v5.19. Only era mixes could tell them apart. */
  readonly swapoutRefusesPinned: boolean;
  /** fork bumps mm->write_protect_seq so GUP-fast retries (≈v5.11). */
  readonly writeProtectSeq: boolean;
  /** GUP-fast re-checks the PMD after taking the reference, not only the PTE, and backs off if
   *  pmdp_collapse_flush cleared it meanwhile (70cbc3cc78a9, "mm: gup: fix the fast GUP race
   *  against THP collapse", v6.0, Sep 2022; backported to the 4.9+ stable trees). Matters only on
   *  a machine whose TLB flush does not wait for GUP-fast (boot option tlbFlushWaitsForGupFast). */
  readonly gupFastPmdRecheck: boolean;
  /** khugepaged's refcount test expects the mapcount (is_refcount_suitable, 855921474514
   *  "khugepaged: allow to collapse a page shared across fork", v5.8); before, page_count == 1 (+
   *  swap cache), so a page shared with a forked child was never collapsed. */
  readonly khugepagedSharedCollapse: boolean;

  // ---- mmap_lock and munmap ----
  /** munmap may downgrade mmap_lock to read before zapping (≈v4.20). */
  readonly munmapDowngrade: boolean;
  /** Per-VMA locks (v6.4): user page faults take the VMA's read lock (lock_vma_under_rcu) instead
   *  of mmap_lock, so they run concurrently with an mmap_lock writer that did not write-lock
   *  that VMA (vma_start_write). */
  readonly perVmaLock: boolean;
  /** mm_take_all_locks() write-locks every VMA (vma_start_write) before the anon_vma and i_mmap
   *  locks, and those VMA locks last until mmap_write_unlock (eeff9a5d47f8, v6.4, "mm/mmap:
   *  prevent pagefault handler from racing with mmu_notifier registration"; kept until the
   *  unlock by Jann Horn's "mm: don't drop VMA locks in mm_drop_all_locks()", 2023). So a
   *  per-VMA-lock fault cannot reach a callback while __mmu_notifier_register is inside. Off
   *  only in what-ifs (registration that merely adds to the list). Meaningless without
   *  perVmaLock. */
  readonly mmTakeAllLocksVmas: boolean;

  // ---- OOM reaper (mm/oom_kill.c) ----
  /** 2018: the reaper skips an mm that has any subscriber without MMU_INVALIDATE_DOES_NOT_BLOCK.
   *  now: it calls start_nonblock and skips only the VMA whose subscriber returned -EAGAIN. */
  readonly oomReaperSkipsBlockingMm: boolean;
  /** What-if only, no released kernel has it: when a classic (hlist) subscriber fails a
   *  non-blocking start after the interval tree's part succeeded, end the tree's part too
   *  (mn_itree_inv_end). Every kernel since the interval tree (99cb252f5e68, v5.5) returns -EAGAIN
   *  from __mmu_notifier_invalidate_range_start with active_invalidate_ranges still raised, and
   *  the caller may not call range_end (chapter 12, C12.8-itree-leak). */
  readonly hlistFailureEndsItree: boolean;

  /** Registration allocates the mm's subscriptions struct only when the mm has none yet
   *  (Gunthorpe, "mm/mmu_notifiers: do not speculatively allocate a mmu_notifier_mm", v5.4);
   *  v4.16's do_mmu_notifier_register kmallocs one on every registration and frees it unused,
   *  under the caller's mmap_sem through __mmu_notifier_register, before taking it through
   *  mmu_notifier_register. Since v5.4 it is always under the mmap lock held for write. */
  readonly notifierAllocFirstOnly: boolean;
  /** A hlist callback's failed start is a WARN (v5.4: "mm/mmu_notifiers: check if mmu notifier
   *  callbacks are allowed to fail"); v4.19–v5.3 only print a line. No failure exists before
   *  v4.19 (the callback returned void). Reported as `notifier-protocol` where it WARNs. */
  readonly notifierFailWarns: boolean;

  // ---- IOMMU (drivers/iommu) ----
  /** The Intel IOMMU's own DMA ops (intel_map_sg, intel_unmap: dma_pte_clear_range, then
   *  iommu_flush_iotlb_psi and free_iova_fast when strict, queue_iova when lazy) instead of
   *  dma-iommu's (__iommu_dma_unmap); dma-iommu since c588072bba6b "iommu/vt-d: Convert intel
   *  iommu driver to the iommu ops" (v5.11). The same effects either way: names in traces only. */
  readonly intelDmaOps: boolean;

  // ---- locking primitives ----
  /** mutex_trylock_recursive exists (removed v5.12, 0f319d49a416). */
  readonly mutexTrylockRecursive: boolean;

  // ---- shrinkers (mm/vmscan.c 2018, mm/shrinker.c now) ----
  /** 2018 shrink_slab takes shrinker_rwsem with down_read_trylock; now the walk is lockless (≈v6.7). */
  readonly shrinkerRwsem: boolean;

  // ---- ext4 writeback (fs/ext4/inode.c) ----
  /** Writeback of a dirty page without buffers: v4.16 hits BUG_ON(!page_has_buffers); from v5.18
   *  ("ext4: don't BUG if someone dirty pages without asking ext4 first", Ts'o, March 2022,
   *  lore YiDS9wVfq4mM2jGK@mit.edu; backported to stable) mpage_prepare_extent_to_map warns "page
   *  %lu does not have buffers attached", clears the dirty bit and skips it: the data is not written. */
  readonly ext4SkipsBufferless: boolean;
}

/** v4.16, the kernel of the March 2018 thread. */
export const E18: Era = Object.freeze({
  name: "E18",
  notifierBlockableArg: false,
  notifierEvent: false,
  intervalNotifier: false,
  hmmInvalidateAtEnd: true,
  notifierLockdepMap: false,
  notifierRegistrationPriming: false,
  notifierMapInFsReclaim: false,
  secondaryTlbOpName: "invalidate_range",
  fsReclaimMap: true,
  fsReclaimHeldInReclaim: false,
  wqFlushLockdep: false,
  wqFlushWorkMapWhenBusy: false,
  wqCancelSkipsFlushDependency: false,
  fenceLockdep: false,
  pinTracking: false,
  longtermRejectsFileWrite: false,
  forkEarlyCopyPinned: false,
  cowReuse: "mapcount",
  gupUnshareRO: false,
  swapoutRefusesPinned: false,
  writeProtectSeq: false,
  gupFastPmdRecheck: false,
  khugepagedSharedCollapse: false,
  munmapDowngrade: false,
  perVmaLock: false,
  mmTakeAllLocksVmas: false,
  oomReaperSkipsBlockingMm: true,
  hlistFailureEndsItree: false,
  notifierAllocFirstOnly: false,
  notifierFailWarns: false,
  intelDmaOps: true,
  mutexTrylockRecursive: true,
  shrinkerRwsem: true,
  ext4SkipsBufferless: false,
} as const);

/**
 * "now": v6.18, the current long-term release. Every switch above is on from v6.7 (the last, the
 * lockless shrinker walk, landed then); claims of this era name v6.18 in their evidence, and a
 * driver design names its own release (`amdgpu@v6.6`, chapter 00).
 */
export const ENOW: Era = Object.freeze({
  name: "now",
  notifierBlockableArg: true,
  notifierEvent: true,
  intervalNotifier: true,
  hmmInvalidateAtEnd: false,
  notifierLockdepMap: true,
  notifierRegistrationPriming: false,
  notifierMapInFsReclaim: true,
  secondaryTlbOpName: "arch_invalidate_secondary_tlbs",
  fsReclaimMap: true,
  fsReclaimHeldInReclaim: true,
  wqFlushLockdep: true,
  wqFlushWorkMapWhenBusy: true,
  wqCancelSkipsFlushDependency: true,
  fenceLockdep: true,
  pinTracking: true,
  longtermRejectsFileWrite: true,
  forkEarlyCopyPinned: true,
  cowReuse: "exclusive",
  gupUnshareRO: true,
  swapoutRefusesPinned: true,
  writeProtectSeq: true,
  gupFastPmdRecheck: true,
  khugepagedSharedCollapse: true,
  munmapDowngrade: true,
  perVmaLock: true,
  mmTakeAllLocksVmas: true,
  oomReaperSkipsBlockingMm: false,
  hlistFailureEndsItree: false,
  notifierAllocFirstOnly: true,
  notifierFailWarns: true,
  intelDmaOps: false,
  mutexTrylockRecursive: false,
  shrinkerRwsem: false,
  ext4SkipsBufferless: true,
} as const);

/** Both eras, for tests that run a scenario in each. */
export const ERAS: readonly Era[] = Object.freeze([E18, ENOW]);

/** A deliberate mix: `era(E18, { forkEarlyCopyPinned: true, pinTracking: true }, "E18+early-cow")` (early COW needs
 *  pin tracking: without MMF_HAS_PINNED nothing is copied). */
export function era(base: Era, changes: Partial<Omit<Era, "name">>, name = `${base.name}+${Object.keys(changes).join("+")}`): Era {
  return Object.freeze({ ...base, ...changes, name });
}
