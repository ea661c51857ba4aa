// The kernel commits that the book's evidence cites (lib/explorer/evidence.ts), each spelt once:
// the first 12 digits of its id and its subject line, as checked against torvalds/linux and the
// stable tree (mailing-list copies of the commits, Fixes: tags and shortlogs; issue 15). The
// release a commit first shipped in is the comment, where it is known.

import type { EvidenceCommit } from "../explorer/index.ts";

const c = (id: string, title: string): EvidenceCommit => Object.freeze({ id, title });

export const COMMITS = Object.freeze({
  // ---- core mm ----
  /** v4.18: reclaim holds the fs_reclaim map. */
  fsReclaimAnnotation: c("93781325da6e", "lockdep: fix fs_reclaim annotation"),
  /** v4.13: try_to_unmap_one and friends call invalidate_range_start/end (no more invalidate_page). */
  rmapNotifierSemantic: c("369ea8242c0f", "mm/rmap: update to new mmu_notifier semantic v2"),
  /** v6.5: munmap downgrades whatever its neighbours (the GROWSUP/GROWSDOWN exception of v5.8 goes). */
  munmapAlwaysDowngrade: c("e4bd84c069f2", "mm: Always downgrade mmap_lock if requested"),
  /** v4.20: munmap zaps with mmap_lock downgraded to read. */
  munmapReadLock: c("dd2283f2605e", "mm: mmap: zap pages with read mmap_sem in munmap"),
  /** ≈v4.20: HMM mirrors are invalidated from invalidate_range_start. */
  hmmInvalidateAtStart: c("ec131b2d7fa6", "mm/hmm: invalidate device page table at start of invalidation"),
  /** v5.4–v5.10: registration primes fs_reclaim -> notifier. */
  notifierPrimeLockdep: c("66204f1d2d1b", "mm/mmu_notifiers: prime lockdep"),
  /** v4.19: the OOM reaper invalidates with a non-blockable range per VMA and skips the VMAs whose subscribers refuse. */
  oomBlockable: c("93065ac753e4", "mm, oom: distinguish blockable mode for mmu notifiers"),
  /** v5.13: a failed non-blocking start calls the other classic subscribers' range_end (not the interval tree's inv_end). */
  rangeEndPaired: c("c2655835fd8c", "mm/mmu_notifiers: ensure range_end() is paired with range_start()"),
  /** v5.5: mmu_interval_notifier (read_begin / read_retry / set_seq). */
  intervalNotifier: c("99cb252f5e68", "mm/mmu_notifier: add an interval tree notifier"),
  /** v5.5: hmm_mirror removed; its users moved to interval notifiers. */
  removeHmmMirror: c("a22dd506400d", "mm/hmm: remove hmm_mirror and related"),
  /** v5.9: fork copies a maybe-pinned anonymous page at once. */
  forkEarlyCow: c("70e806e4e645", "mm: Do early cow for pinned pages during fork() for ptes"),
  /** v5.11: fork's write_protect_seq; gup_fast checks it for FOLL_PIN only. */
  gupFastForkSeq: c("57efa1fe5957", "mm/gup: prevent gup_fast from racing with COW during fork"),
  /** v5.19: PageAnonExclusive; fork clears it on a shared anon page, and only an exclusive page is reused or pinned. */
  anonExclusive: c("6c287605fd56", "mm: remember exclusively mapped anonymous pages with PG_anon_exclusive"),
  /** v5.9: a write fault reuses an anonymous page only if nothing else holds it. */
  doWpPageSimplification: c("09854ba94c6a", "mm: do_wp_page() simplification"),
  /** v5.11: every reclaiming allocation touches the notifier lockdep map. */
  fsReclaimNotifiers: c("f920e413ff9c", "mm: track mmu notifiers in fs_reclaim_acquire/release"),
  /** v6.0 (Sep 2022), backported to 4.9: GUP-fast rechecks the PMD against a THP collapse. */
  gupFastThpCollapse: c("70cbc3cc78a9", "mm: gup: fix the fast GUP race against THP collapse"),
  /** v6.4: mm_take_all_locks write-locks every VMA. */
  vmaLockRegistration: c("eeff9a5d47f8", "mm/mmap: prevent pagefault handler from racing with mmu_notifier registration"),
  // ---- locking ----
  /** v4.15: flush_work and flush_workqueue lose their lockdep acquisitions. */
  wqFlushLockdepRemoved: c("fd1a5b04dfb8", "workqueue: Remove now redundant lock acquisitions wrt. workqueue flushes"),
  /** v4.19: they are back. */
  wqFlushLockdepReAdded: c("87915adc3f0a", "workqueue: re-add lockdep dependencies for flushing"),
  /** v5.12: mutex_trylock_recursive() removed. */
  killTrylockRecursive: c("0f319d49a416", "locking/mutex: Kill mutex_trylock_recursive()"),
  // ---- DRM ----
  /** v5.3: TTM evicts a busy BO by locking it with the submission's ticket. */
  ttmBusyTicket: c("d367bd2a5e2b", "drm/ttm: fix busy memory to fail other user v10"),
  /** v5.3: ttm_eu_reserve_buffers can leave the BOs it reserved on the LRU (v4.16 always took them off). */
  ttmLruRemovalOptional: c("6e58ab7ac7fa", "drm/ttm: Make LRU removal optional v2"),
  /** v5.3: amdgpu collects userptr pages with HMM and holds no page references from here on. */
  amdgpuHmmMirror: c("899fbde14646", "drm/amdgpu: replace get_user_pages with HMM mirror helpers"),
  /** v5.5: amdgpu on mmu_interval_notifier; the submission returns -EAGAIN when read_retry fails. */
  amdgpuIntervalNotifier: c("81fa1af31b5d", "drm/amdgpu: Use mmu_interval_notifier instead of hmm_mirror"),
  /** 6.18-stable (June 2026): the callback waits on the VM root's reservation, not the BO's. */
  amdgpuWaitAll: c("58bafc666c48", "drm/amdgpu: fix waiting for all submissions for userptrs"),
  /** Same stable batch (June 2026): amdgpu_cs_submit returns -EAGAIN while vm->invalidated is not empty. */
  amdgpuRestartCs: c("40396ffdf612", "drm/amdgpu: restart the CS if some parts of the VM are still invalidated"),
  /** June 2026 stable (7.0-stable review: "commit 1c824497d8ac… upstream", cherry-picked from drm-next's b6444d1bcbc3): the callback calls amdgpu_vm_bo_invalidate; amdgpu_vm_handle_moved never trylocks a userptr BO. */
  amdgpuHmmVmInvalidate: c("1c824497d8ac", "drm/amdgpu: fix calling VM invalidation in amdgpu_hmm_invalidate_gfx"),
  /** v5.7: move_notify for dynamic dma-buf importers. */
  dynamicDmaBuf: c("bb42df4662a4", "dma-buf: add dynamic DMA-buf handling v15"),
  /** v5.1: i915's callback unbinds inline, without the worker. */
  i915NoWorker: c("484d9a844d0d", "drm/i915/userptr: Avoid struct_mutex recursion for mmu_invalidate_range_start"),
  /** v5.3-rc; reverted for v5.3 (12 September 2019) by the next one. */
  i915PageLock: c("aa56a292ce62", "drm/i915/userptr: Acquire the page lock around set_page_dirty()"),
  i915PageLockRevert: c("505a8ec7e11a", "Revert \"drm/i915/userptr: Acquire the page lock around set_page_dirty()\""),
  /** v5.4 (Linus's tree; cherry-picked from drm-intel's 0d4bbe3d407f, November 2019, and sent to stable). */
  i915PageTrylock: c("2d691aeca4ae", "drm/i915/userptr: Try to acquire the page lock around set_page_dirty()"),
  /** Jan 2022, stable back to v4.4: the GPU TLB is flushed before the pages are released. */
  i915TlbFlush: c("7938d61591d3", "drm/i915: Flush TLBs before releasing backing store"),
  /** v6.0: the unbind records the TLB flush; __i915_gem_object_unset_pages performs it before put_pages. */
  i915BatchTlb: c("5d36acb7198b", "drm/i915/gt: Batch TLB invalidations"),
  /** v5.13: interval notifier and pin_user_pages_fast. */
  i915Rework: c("ed29c2691188", "drm/i915: Fix userptr so we do not have to worry about obj->mm.lock, v7."),
  /** v5.13, with the rework: execbuf keeps pins and binding while the sequence is unchanged. */
  i915KeepBindings: c("fd995a3cc432", "drm/i915: Keep userpointer bindings if seqcount is unchanged, v2."),
  /** v5.15: notifier_lock becomes an rwlock; object state moves under the object lock. */
  i915SimplifyLocking: c("b4b9731b02c3", "drm/i915: Simplify userptr locking"),
  /** v6.9: the callback only advances the sequence; notifier_lock and the wait for idle are gone. */
  i915SeqOnlyCallback: c("86ceaaaec597", "drm/i915/gem: Atomically invalidate userptr on mmu-notifier"),
  /** v5.13. */
  i915RejectUnsync: c("c6bcc0c2fdfd", "drm/i915: Reject UNSYNCHRONIZED for userptr, v2."),
  // ---- file systems ----
  ext4WarnNoBuffers: c("6dcc693bc57f", "ext4: warn when page is dirtied without buffers"),
});
