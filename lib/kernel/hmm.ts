// HMM (kernel-semantics §18): the v4.16 mirror API and the current hmm_range_fault.
// Model of mm/hmm.c at v4.16 (hmm_mirror_register, hmm_invalidate_range_start/_end,
// hmm_invalidate_range, hmm_vma_get_pfns, hmm_vma_fault, hmm_vma_range_done) and now
// (hmm_range_fault with the interval notifier's seq).
//
// v4.16 (read from the source): HMM's own notifier only bumps hmm->sequence in range_start;
// range_END calls hmm_invalidate_range, which clears range->valid for overlapping snapshots and
// calls every mirror's sync_cpu_device_pagetables. So the device is updated after the CPU PTEs
// changed, and a snapshot taken between start and end is still "valid" until end. The era
// switch hmmInvalidateAtEnd=false is ec131b2d7fa6 (≈v4.20): range_start clears range->valid and
// syncs the mirrors, range_end clears range->valid again without syncing them
// (hmm_invalidate_range(hmm, false, &update)), and hmm->sequence is gone.
//
// Neither API takes page references: the result is only good until the next invalidation.

import { Obj } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, kcall, leave } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { PTE_PRESENT, PTE_WRITE, VM_WRITE } from "./mm.ts";
import { handle_mm_fault, VM_FAULT_OK } from "./fault.ts";
import { __mmu_notifier_register, MmuNotifier, type MmuIntervalNotifier, type MmuNotifierOps, type MmuNotifierRange, mmu_interval_check_retry } from "./mmu-notifier.ts";
import { EFAULT } from "./gup.ts";
import { HPAGE_NR } from "./page.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export const EBUSY = -16;
export const EPERM = -1;

/** struct hmm_mirror_ops (v4.16). */
export interface HmmMirrorOps {
  readonly name: string;
  /** Called from HMM's notifier: at range_end in v4.16, at range_start from ≈v4.20. */
  sync_cpu_device_pagetables(mirror: HmmMirror, start: number, end: number): Gen<void>;
  release?(mirror: HmmMirror): Gen<void>;
}

export class HmmMirror {
  hmm: Hmm | null = null;
  constructor(readonly ops: HmmMirrorOps) {}
}

/** struct hmm_range (v4.16): a snapshot of pfns, valid until an overlapping invalidation. */
export class HmmRange {
  valid = false;
  /** Snapshot: pfn per page, -1 if none; and whether the CPU PTE was writable. */
  readonly pfns: Int32Array;
  readonly writable: Uint8Array;
  constructor(
    readonly mm: Mm,
    readonly start: number,
    readonly end: number,
  ) {
    this.pfns = new Int32Array(end - start).fill(-1);
    this.writable = new Uint8Array(end - start);
  }
}

/** struct hmm: per mm. Its ranges list and sequence are under hmm->lock: one explorer object. */
export class Hmm extends Obj {
  sequence = 0;
  readonly ranges: HmmRange[] = [];
  readonly mirrors: HmmMirror[] = [];
  readonly notifier: MmuNotifier;
  constructor(
    private readonly k: Kernel,
    readonly mm: Mm,
  ) {
    super("hmm", `${mm.name}->hmm`);
    // Arrows to module-level function*: an Hmm is made per execution (README.md, "Speed").
    const ops: MmuNotifierOps = {
      name: "hmm",
      invalidate_range_start: (_s, r) => hmm_invalidate_range_start(k, this, r),
      invalidate_range_end: (_s, r) => hmm_invalidate_range_end(k, this, r),
    };
    this.notifier = new MmuNotifier(ops);
  }
  step<T>(label: string, mode: "r" | "w", run: () => T): Gen<T> {
    return this.access(mode === "r" ? "read" : "write", mode, { label, run });
  }
}

/** hmm_invalidate_range_start: v4.16 bumps the sequence only; since ec131b2d7fa6 it invalidates and syncs the mirrors. */
function* hmm_invalidate_range_start(k: Kernel, hmm: Hmm, r: MmuNotifierRange): Gen<void> {
  if (k.era.hmmInvalidateAtEnd) yield* hmm.step("hmm_invalidate_range_start: sequence++", "w", () => void hmm.sequence++);
  else yield* hmm_invalidate_range(k, hmm, r, true);
}

/** hmm_invalidate_range_end: v4.16 invalidates and syncs the mirrors here; since ec131b2d7fa6 it only clears range->valid again. */
function* hmm_invalidate_range_end(k: Kernel, hmm: Hmm, r: MmuNotifierRange): Gen<void> {
  yield* hmm_invalidate_range(k, hmm, r, k.era.hmmInvalidateAtEnd);
}

/** hmm_invalidate_range(hmm, device, update): clear range->valid of overlapping snapshots, then, if `device`, sync every mirror. */
function* hmm_invalidate_range(k: Kernel, hmm: Hmm, r: MmuNotifierRange, device: boolean): Gen<void> {
  const __f = enter(k, "hmm_invalidate_range");
  try {
    yield* hmm.step(`hmm_invalidate_range(${r.start}..${r.end}): range->valid = false`, "w", () => {
      for (const range of hmm.ranges) if (range.start < r.end && r.start < range.end) range.valid = false;
    });
    if (!device) return;
    const t = k.current();
    const cls = k.lockdep.classId("&hmm->mirrors_sem");
    k.lockdep.acquire(t, cls, "hmm->mirrors_sem", 1);
    for (const m of hmm.mirrors) yield* kcall(k, `${m.ops.name}.sync_cpu_device_pagetables`, () => m.ops.sync_cpu_device_pagetables(m, r.start, r.end));
    k.lockdep.release(t, cls);
  } finally {
    leave(__f);
  }
}

/** hmm_mirror_register (v4.16): caller holds mmap_sem for write. */
export function* hmm_mirror_register(k: Kernel, mirror: HmmMirror, hmm: Hmm): Gen<number> {
  const __f = enter(k, "hmm_mirror_register");
  try {
    if (hmm.mirrors.length === 0) yield* __mmu_notifier_register(k, hmm.notifier, hmm.mm);
    yield* hmm.step(`hmm_mirror_register(${mirror.ops.name})`, "w", () => {
      hmm.mirrors.push(mirror);
      mirror.hmm = hmm;
    });
    return 0;
  } finally {
    leave(__f);
  }
}

/** Create the per-mm HMM object (hmm_register's allocation). Setup only. */
export function hmm_alloc(k: Kernel, mm: Mm): Hmm {
  return new Hmm(k, mm);
}

/**
 * hmm_vma_get_pfns / hmm_vma_fault (v4.16): caller holds mmap_sem read. Registers the range
 * (valid = true) and snapshots the PTEs, faulting missing pages if `fault`. Returns 0 or -EFAULT.
 */
export function* hmm_vma_fault(k: Kernel, hmm: Hmm, range: HmmRange, fault: boolean, write: boolean): Gen<number> {
  const __f = enter(k, fault ? "hmm_vma_fault" : "hmm_vma_get_pfns");
  try {
    yield* hmm.step("hmm_vma_range_register: valid = true", "w", () => {
      range.valid = true;
      hmm.ranges.push(range);
    });
    const mm = range.mm;
    // One step per PMD (lockless walk, as hmm_range_fault below); fault and re-walk on a hole.
    for (let base = range.start; base < range.end; ) {
      const pmdEnd = Math.min(range.end, base - (base % HPAGE_NR) + HPAGE_NR);
      const from = base;
      const hole = yield* k.mem.fieldStep(`hmm_vma_walk(${mm.name}:${from}..${pmdEnd})`, "r", () => {
        for (let vpn = from; vpn < pmdEnd; vpn++) {
          const f = mm.pteFlags[vpn];
          const i = vpn - range.start;
          if (!(f & PTE_PRESENT) || (write && !(f & PTE_WRITE))) {
            range.pfns[i] = -1;
            if (fault) return vpn;
          } else {
            range.pfns[i] = mm.ptePfn[vpn];
            range.writable[i] = f & PTE_WRITE ? 1 : 0;
          }
        }
        return -1;
      });
      if (hole < 0) {
        base = pmdEnd;
        continue;
      }
      if ((yield* handle_mm_fault(k, mm, hole, { write })) !== VM_FAULT_OK) return EFAULT;
    }
    return 0;
  } finally {
    leave(__f);
  }
}

/** hmm_vma_range_done (v4.16): unregister the range; true if no invalidation hit it. */
export function* hmm_vma_range_done(k: Kernel, hmm: Hmm, range: HmmRange): Gen<boolean> {
  return yield* hmm.step("hmm_vma_range_done", "w", () => {
    const i = hmm.ranges.indexOf(range);
    if (i >= 0) hmm.ranges.splice(i, 1);
    return range.valid;
  });
}

// ---- now ----

/** struct hmm_range (now). */
export interface HmmRangeNow {
  readonly notifier: MmuIntervalNotifier;
  notifier_seq: number;
  readonly start: number;
  readonly end: number;
  /** Output: pfn per page (-1 = none). */
  readonly hmm_pfns: Int32Array;
  /** HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE for every page. */
  readonly fault: boolean;
  readonly write: boolean;
}

/**
 * hmm_range_fault (now): caller holds mmap_lock read and got notifier_seq from read_begin.
 * Walks the page tables, faulting as asked; -EBUSY if the interval seq moved (restart from
 * read_begin), -EFAULT for no VMA, -EPERM for a write to a read-only VMA. Takes no page references.
 */
export function* hmm_range_fault(k: Kernel, range: HmmRangeNow): Gen<number> {
  const __f = enter(k, "hmm_range_fault");
  try {
    const mm = range.notifier.mm!;
    for (let round = 0; round < 4; round++) {
      if (yield* mmu_interval_check_retry(k, range.notifier, range.notifier_seq)) return EBUSY;
      // hmm_vma_walk_pmd reads the PTEs of one PMD without the PTL; one step per PMD. A torn
      // snapshot (some PTEs before a concurrent zap, some after) is no worse for any per-page
      // oracle than the all-before snapshot this still produces, so merging hides no violation.
      let faultAt = -1;
      for (let base = range.start; base < range.end && faultAt < 0; ) {
        const pmdEnd = Math.min(range.end, base - (base % HPAGE_NR) + HPAGE_NR);
        const from = base;
        faultAt = yield* k.mem.fieldStep(`hmm_vma_walk_pmd(${mm.name}:${from}..${pmdEnd})`, "r", () => {
          for (let vpn = from; vpn < pmdEnd; vpn++) {
            const f = mm.pteFlags[vpn];
            const i = vpn - range.start;
            if (!(f & PTE_PRESENT) || (range.write && !(f & PTE_WRITE))) {
              range.hmm_pfns[i] = -1;
              if (range.fault) return vpn;
            } else range.hmm_pfns[i] = mm.ptePfn[vpn];
          }
          return -1;
        });
        base = pmdEnd;
      }
      if (faultAt < 0) return 0;
      const vma = mm.findVma(faultAt);
      if (!vma) return EFAULT;
      if (range.write && !(vma.flags & VM_WRITE)) return EPERM; // hmm_vma_walk_test / hmm_pte_need_fault

      if ((yield* handle_mm_fault(k, mm, faultAt, { write: range.write })) !== VM_FAULT_OK) return EFAULT;
      // -EBUSY from the walk after a fault: loop (the check_retry above decides).
    }
    return EBUSY;
  } finally {
    leave(__f);
  }
}
