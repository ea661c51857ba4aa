// IOMMU domains, IO page tables and the IOTLB (kernel-semantics §21). Model of
// drivers/iommu/iommu.c (iommu_map, __iommu_unmap, iommu_unmap, iommu_unmap_fast,
// iommu_iotlb_sync, iommu_flush_iotlb_all, report_iommu_fault) and the IOVA flush queue: today
// drivers/iommu/dma-iommu.c (queue_iova, fq_flush_timeout / iommu_dma_flush_fq); in v4.16
// drivers/iommu/iova.c (queue_iova, fq_flush_timeout, iova_domain_flush), which
// drivers/iommu/intel-iommu.c's intel_unmap fed in lazy mode (the driver's own add_unmap /
// flush_unmaps were gone by then).
//
// The IO page table and the IOTLB are hardware-visible state: read and written only inside ONE
// k.mem step, together with the frame access they translate (the one rule of lib/kernel). Every
// live IO PTE holds a HW_IOMMU_PTE reference on its frame and every live IOTLB entry a HW_IOTLB
// reference, so freeing the frame before the unmap AND the IOTLB sync is a `uaf` (page.ts).
//
// Modes (`iommu.strict=`, generic since v4.20; in 2018 Intel defaulted to lazy):
//  * "strict": unmap = clear IO PTEs, then invalidate the IOTLB, before returning.
//  * "lazy": unmap clears the IO PTEs and parks the IOVA in the flush queue; the IOTLB keeps the
//    translation until the queue is flushed (fq_flush_timeout). The IOVA is not reused until
//    then, but the FRAME may be freed and reused: an access through such an entry is reported
//    as `lazy-iotlb-window`, the documented reduced isolation, not as `uaf`. The stale entry
//    drops its HW_IOTLB reference at unmap for the same reason.
//  * "none": no IOMMU; DMA addresses are physical (dma-mapping.ts), nothing ever faults.
//
// Faults: an access with no translation (or a write through a read-only one) is aborted, the
// write dropped, and reported as `iommu-fault` (informational: it is the IOMMU doing its job).
//
// Simplifications: one IOTLB per domain (no per-device ATCs, no PRI/SVA): errs towards neither
// (ATS caches are invalidated by the same sync). Page-table pages are not allocated on map (no
// reclaim from iommu_map; v4.16 io-pgtable allocated with GFP_ATOMIC): errs towards fewer
// allocation findings. The flush queue never fills (256 entries in the kernel): it is flushed only
// by an explicit fq_flush_timeout, which a scenario runs as a thread: errs towards a longer window.

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { HW_IOMMU_PTE, HW_IOTLB } from "./page.ts";
import { viewedDevices } from "./view.ts";
import { accessLogOn, initScalar, recordList, recordMap } from "./access-log.ts";
import { fieldNo, INDEX_ALL, IO_FAULTS, IO_FQ, IO_IOVA, IO_PTE, IO_TLB, MAX_INDEX, MAX_OWNER, SPACE_IOMMU } from "./field-log.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export type IommuMode = "strict" | "lazy" | "none";

/** One IO PTE: the frame, the generation it was mapped for, write permission, and an owner tag
 *  (the sg_table it belongs to, for the dma-buf oracle). */
export interface IoPte {
  readonly pfn: number;
  readonly gen: number;
  readonly write: boolean;
  readonly tag: unknown;
}

interface IotlbEntry extends IoPte {
  /** Its IO PTE was unmapped in lazy mode: no HW reference held, awaiting the flush queue. */
  readonly stale: boolean;
}

/** Result of a device-side translation. */
export interface Translation {
  readonly pfn: number;
  readonly gen: number;
  readonly tag: unknown;
  /** Through a stale lazy-mode IOTLB entry (accepted window). */
  readonly lazyWindow: boolean;
}

export const EEXIST = -17;

export class IommuDomain {
  // ---- hardware-visible: only inside k.mem steps ----
  /** IOVA (page number) -> IO PTE. */
  readonly pt = new Map<number, IoPte>();
  /** IOVA -> cached translation. Entries survive PTE changes until invalidated. */
  private readonly iotlb = new Map<number, IotlbEntry>();
  /** Flush queue: IOVAs unmapped in lazy mode, not yet invalidated, not reusable. */
  readonly fq: number[] = [];
  // ---- IOVA allocator (iova.c), also only inside k.mem steps ----
  // Recorded under field footprints: defined in the constructor (access-log.ts initScalar).
  private declare nextIova: number;
  private readonly freeIovas: number[] = [];
  /** Fault log (report_iommu_fault). */
  readonly faults: { iova: number; write: boolean; who: string }[] = [];

  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly mode: Exclude<IommuMode, "none">,
  ) {
    const doms = viewedDevices(k).iommus, nr = doms.length;
    doms.push(this);
    const fl = k.mem.fields;
    if (accessLogOn() || fl !== null) {
      // Field footprints (field-log.ts): the IO page table, the IOTLB, the flush queue, the IOVA
      // allocator and the fault log of the nr-th domain (numbered at setup, like GPU VMs) are
      // recorded, so the steps below and a GPU access through the IOMMU can be split. IOTLB
      // entries are replaced, never changed in place (makeStale).
      const no = (f: number) => (iova: number) => (Number.isInteger(iova) && iova >= 0 && iova <= MAX_INDEX && nr <= MAX_OWNER ? fieldNo(SPACE_IOMMU, nr, iova, f) : null);
      const one = (f: number) => (fl === null ? undefined : { log: fl, no: () => (nr <= MAX_OWNER ? fieldNo(SPACE_IOMMU, nr, 0, f) : null) });
      const map = (f: number) => (fl === null ? undefined : { log: fl, no: no(f), all: fieldNo(SPACE_IOMMU, Math.min(nr, MAX_OWNER), INDEX_ALL, f) });
      const me = this as unknown as { pt: Map<number, IoPte>; iotlb: Map<number, IotlbEntry>; fq: number[]; freeIovas: number[]; faults: unknown[] };
      me.pt = recordMap(this.pt, `${name}.iopte`, map(IO_PTE));
      me.iotlb = recordMap(this.iotlb, `${name}.iotlb`, map(IO_TLB));
      me.fq = recordList(this.fq, `${name}.fq`, one(IO_FQ));
      me.freeIovas = recordList(this.freeIovas, `${name}.iova`, one(IO_IOVA));
      initScalar(this, "nextIova", 0x1000, { key: `${name}.iova`, fs: one(IO_IOVA) });
      me.faults = recordList(this.faults, `${name}.faults`, one(IO_FAULTS));
      if (fl !== null) ["pt", "iotlb", "fq", "iova", "faults"].forEach((n, i) => fl.names.set(SPACE_IOMMU * 64 + i, n));
    } else this.nextIova = 0x1000;
  }

  /** alloc_iova: lowest freed IOVA first (reuse is what makes stale translations dangerous). */
  allocIova(): number {
    return this.freeIovas.length ? this.freeIovas.pop()! : this.nextIova++;
  }
  freeIova(iova: number): void {
    this.freeIovas.push(iova);
  }

  /** Install a PTE (inside a step). */
  setPte(iova: number, pfn: number, gen: number, write: boolean, tag: unknown): number {
    if (this.pt.has(iova)) return EEXIST;
    this.pt.set(iova, { pfn, gen, write, tag });
    this.k.mem.hwGet(pfn, HW_IOMMU_PTE);
    return 0;
  }
  /** Clear a PTE (inside a step). Returns whether there was one. */
  clearPte(iova: number): boolean {
    const p = this.pt.get(iova);
    if (!p) return false;
    this.pt.delete(iova);
    this.k.mem.hwPut(p.pfn, HW_IOMMU_PTE);
    return true;
  }
  /** Invalidate IOTLB entries for the IOVAs (inside a step). */
  invalidate(iovas: Iterable<number>): void {
    for (const iova of iovas) {
      const e = this.iotlb.get(iova);
      if (!e) continue;
      if (!e.stale) this.k.mem.hwPut(e.pfn, HW_IOTLB);
      this.iotlb.delete(iova);
    }
  }
  invalidateAll(): void {
    this.invalidate([...this.iotlb.keys()]);
  }
  /** Lazy unmap of iova: its IOTLB entry (if any) stays, but no longer pins the frame's accounting. */
  makeStale(iova: number): void {
    const e = this.iotlb.get(iova);
    if (e && !e.stale) {
      this.iotlb.set(iova, { ...e, stale: true });
      this.k.mem.hwPut(e.pfn, HW_IOTLB);
    }
  }
  /** The IOTLB's entries (the state panel, view.ts): read only. */
  iotlbEntries(): Iterable<[number, IotlbEntry]> {
    return this.iotlb.entries();
  }
  /** Does the IOTLB hold an entry for iova? (assertions, final()) */
  cached(iova: number): boolean {
    return this.iotlb.has(iova);
  }

  /**
   * A device access to `iova` (inside the step that also touches the frame): IOTLB hit, else
   * walk and fill, else fault (the access is dropped: null).
   */
  translate(iova: number, write: boolean, who: string): Translation | null {
    const e = this.iotlb.get(iova);
    if (e) {
      if (write && !e.write) return this.fault(iova, write, who, "read-only translation");
      if (e.stale) {
        const mem = this.k.mem;
        const freed = mem.isFree(e.pfn), reused = !freed && mem.gen[e.pfn] !== e.gen;
        finding("lazy-iotlb-window", `${who} ${write ? "wrote" : "read"} IOVA ${iova.toString(16)} through a stale IOTLB entry (IO PTE unmapped, flush queued) to frame ${e.pfn}${freed ? ", which is free" : reused ? ", which was freed and reused" : ""}: accepted reduced isolation of lazy mode`, { iova, pfn: e.pfn, freed, reused, write });
      }
      return { pfn: e.pfn, gen: e.gen, tag: e.tag, lazyWindow: e.stale };
    }
    const p = this.pt.get(iova);
    if (!p) return this.fault(iova, write, who, "no translation");
    if (write && !p.write) return this.fault(iova, write, who, "read-only translation");
    this.iotlb.set(iova, { ...p, stale: false });
    this.k.mem.hwGet(p.pfn, HW_IOTLB);
    return { pfn: p.pfn, gen: p.gen, tag: p.tag, lazyWindow: false };
  }

  private fault(iova: number, write: boolean, who: string, why: string): null {
    this.faults.push({ iova, write, who });
    finding("iommu-fault", `IOMMU fault in ${this.name}: ${who} ${write ? "write" : "read"} at IOVA ${iova.toString(16)} (${why}); the ${write ? "write is dropped" : "read returns an error"}`, { domain: this.name, iova, write });
    note(`IOMMU fault at ${iova.toString(16)}`);
    return null;
  }
}

// The steps below are split (field footprints, lib/kernel/README.md): they touch the domain's
// recorded state, the frames' generations and hardware counts, and the caller's own gather.

/** iommu_domain_alloc (+ the strict/lazy policy of the default domain). */
export function iommu_domain_alloc(k: Kernel, name: string, mode: Exclude<IommuMode, "none"> = "strict"): IommuDomain {
  return new IommuDomain(k, name, mode);
}

/** iommu_map(domain, iova, paddr, size = 1 page, prot): 0 or -EEXIST. One step. */
export function* iommu_map(k: Kernel, dom: IommuDomain, iova: number, pfn: number, write = true, tag: unknown = null): Gen<number> {
  return yield* k.mem.fieldStep(`iommu_map(${dom.name}, ${iova.toString(16)} -> frame ${pfn})`, "w", () => dom.setPte(iova, pfn, k.mem.gen[pfn], write, tag));
}

/** An iommu_iotlb_gather: the IOVAs whose IOTLB entries still need invalidating. */
export interface IotlbGather {
  readonly iovas: number[];
}

/** iommu_unmap_fast: clear the IO PTEs, collect them in the gather, no IOTLB invalidation. `fn`: the
 *  name of the function that does it in the era (v4.16 Intel: dma_pte_clear_range). */
export function* iommu_unmap_fast(k: Kernel, dom: IommuDomain, iovas: readonly number[], gather: IotlbGather, fn = "iommu_unmap_fast"): Gen<number> {
  return yield* k.mem.fieldStep(`${fn}(${dom.name}, ${iovas.map((i) => i.toString(16)).join(",")})`, "w", () => {
    let n = 0;
    for (const iova of iovas) if (dom.clearPte(iova)) (n++, gather.iovas.push(iova));
    return n;
  });
}

/** iommu_iotlb_sync: invalidate what the gather collected (v4.16 Intel: iommu_flush_iotlb_psi). */
export function* iommu_iotlb_sync(k: Kernel, dom: IommuDomain, gather: IotlbGather, fn = "iommu_iotlb_sync"): Gen<void> {
  yield* k.mem.fieldStep(`${fn}(${dom.name})`, "w", () => {
    dom.invalidate(gather.iovas);
    gather.iovas.length = 0;
  });
}

/** iommu_unmap: PTE clear and synchronous IOTLB invalidation (two steps: distinct events). */
export function* iommu_unmap(k: Kernel, dom: IommuDomain, iovas: readonly number[]): Gen<number> {
  const __k = enter(k, "iommu_unmap");
  try {
    return yield* clearThenSync(k, dom, iovas);
  } finally {
    leave(__k);
  }
}

/** The IO PTE clear, then the IOTLB invalidation of what it cleared, under the era's names. */
function* clearThenSync(k: Kernel, dom: IommuDomain, iovas: readonly number[], clear?: string, sync?: string): Gen<number> {
  const gather: IotlbGather = { iovas: [] };
  const n = yield* iommu_unmap_fast(k, dom, iovas, gather, clear);
  yield* iommu_iotlb_sync(k, dom, gather, sync);
  return n;
}

/** iommu_flush_iotlb_all. */
export function* iommu_flush_iotlb_all(k: Kernel, dom: IommuDomain): Gen<void> {
  yield* k.mem.fieldStep(`iommu_flush_iotlb_all(${dom.name})`, "w", () => dom.invalidateAll());
}

/**
 * The DMA layer's unmap of IOVAs (dma-iommu __iommu_dma_unmap; v4.16 Intel: intel_unmap, the same
 * effects under its own names, era.intelDmaOps): strict = clear the PTEs, invalidate the IOTLB and
 * free the IOVAs; lazy = clear the PTEs, leave the IOTLB, queue the IOVAs on the flush queue.
 */
export function* __iommu_dma_unmap(k: Kernel, dom: IommuDomain, iovas: readonly number[]): Gen<void> {
  const intel = k.era.intelDmaOps;
  const __k = enter(k, intel ? "intel_unmap" : "__iommu_dma_unmap");
  try {
    if (dom.mode === "strict") {
      if (intel) yield* clearThenSync(k, dom, iovas, "dma_pte_clear_range", "iommu_flush_iotlb_psi");
      else yield* iommu_unmap(k, dom, iovas);
      yield* k.mem.fieldStep(intel ? "free_iova_fast" : "free_iova", "w", () => iovas.forEach((i) => dom.freeIova(i)));
      return;
    }
    yield* k.mem.fieldStep(`${intel ? "dma_pte_clear_range" : "iommu_unmap_fast"} + queue_iova(${dom.name}, ${iovas.map((i) => i.toString(16)).join(",")})`, "w", () => {
      for (const iova of iovas) {
        dom.clearPte(iova);
        dom.makeStale(iova);
        dom.fq.push(iova);
      }
    });
  } finally {
    leave(__k);
  }
}

/** fq_flush_timeout / iommu_dma_flush_fq: invalidate the whole IOTLB, then free the parked IOVAs. */
export function* fq_flush_timeout(k: Kernel, dom: IommuDomain): Gen<void> {
  yield* k.mem.fieldStep(`fq_flush_timeout(${dom.name})`, "w", () => {
    dom.invalidateAll();
    for (const iova of dom.fq.splice(0)) dom.freeIova(iova);
  });
}
