// A per-process GPU VM: GPU page table and GPU TLB (kernel-semantics §22, §30; driver-designs §7).
// Generic model of what amdgpu_vm.c (amdgpu_vm_bo_update, amdgpu_vm_clear_freed), i915_gem_gtt.c
// (ppgtt insert_entries / clear_range, unbind_vma) and drm_gpuvm.c do to hardware.
//
// GPU VA (page numbers) -> DMA address (an IOVA, or a physical frame without an IOMMU), write
// permission, and for userptr bindings the owner mm:vpn whose data the binding is meant to be.
// The GPU TLB is SEPARATE state: an entry survives a PTE clear until gpuvm_tlb_flush (i915 released
// userptr pages without flushing it until 7938d61591d3, Jan 2022). A job may access ANY VA mapped
// in its VM, not only the BOs it lists (§30: rogue jobs).
//
// All of it is hardware-visible: changed and read only inside k.mem steps. Without an IOMMU a PTE
// and a TLB entry hold HW_GPU_PTE / HW_GPU_TLB references on their frame (freeing it first is a
// `uaf`); behind an IOMMU they hold an IOVA, and the IOMMU's own references count.
//
// Simplifications: VM updates are CPU writes done in one step (real drivers may use an SDMA job
// with its own fence: errs towards a shorter window between "PTE cleared" and "visible"); one TLB
// per VM shared by all engines (errs towards neither: a flush invalidates it for all).

import { finding, note } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { HW_GPU_PTE, HW_GPU_TLB } from "./page.ts";
import { deviceMapInstalled, deviceMapRemoved, deviceWrite } from "./oracles.ts";
import { installStamp, NO_STAMP, type InstallStamp } from "./device-oracles.ts";
import { viewedDevices } from "./view.ts";
import { trace } from "./tracepoints.ts";
import { dmaTranslate, type DmaDevice, type SgTable } from "./dma-mapping.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** A userptr binding's owner view: the CPU page this GPU page is meant to be. */
export interface Owner {
  readonly mm: Mm;
  readonly vpn: number;
}

export interface GpuPte {
  readonly dma: number;
  /** Frame generation when the address was obtained (checked without an IOMMU). */
  readonly gen: number;
  readonly write: boolean;
  readonly owner: Owner | null;
  /** The page's invalidations as the install saw them (stray-write: installed before a callback returned?). */
  readonly stamp: InstallStamp;
  /** The sg_table the address came from (dma-buf oracle), or null. */
  readonly sgt: SgTable | null;
}

/** Driver hook for recoverable faults (page-fault capable hardware): install a PTE and return true. */
export type GpuFaultHandler = (k: Kernel, vm: GpuVm, va: number, write: boolean) => Gen<boolean>;
import { accessLogOn, initScalar, recordMap } from "./access-log.ts";
import { fieldNo, INDEX_ALL, MAP_OWNER_GPU_END, MAX_INDEX, MAX_OWNER, SPACE_MAP } from "./field-log.ts";

export class GpuVm {
  // ---- hardware-visible: only inside k.mem steps ----
  readonly pte = new Map<number, GpuPte>();
  readonly tlb = new Map<number, GpuPte>();
  /** VAs that were ever bound to a userptr page (a fault there is `userptr-fault`). Oracle
   *  bookkeeping; a map (to true) so that field footprints can record it like the PTEs. */
  private readonly userptrVas = new Map<number, true>();
  /** Recoverable faults: the engine calls this and retries; null = every fault is fatal. */
  // Tripped on under field footprints: defined in the constructor (access-log.ts initScalar).
  declare faultHandler: GpuFaultHandler | null;
  /** vm_needs_flush: the page table changed since the GPU TLB was last flushed (amdgpu v4.16:
   *  amdgpu_vm_bo_update's updates make the next job's amdgpu_vm_flush flush; gpuvm_map_sgt's
   *  `needsFlush`, gpuvm_flush_if_needed). Hardware-visible like the PTEs: only inside k.mem
   *  steps. Recorded under field footprints as (MAP, 3nr, 0, 1), defined in the constructor. */
  declare needsFlush: boolean;
  constructor(
    readonly k: Kernel,
    readonly name: string,
    readonly dev: DmaDevice,
  ) {
    const vms = viewedDevices(k).gpuVms, nr = vms.length;
    vms.push(this);
    const fl = k.mem.fields;
    initScalar(this, "faultHandler", null, fl !== null ? { trip: fl } : null);
    const flushField = fl !== null && nr < MAP_OWNER_GPU_END / 3 ? { log: fl, no: () => fieldNo(SPACE_MAP, 3 * nr, 0, 1) } : undefined;
    if (flushField) fl!.names.set((SPACE_MAP * 0x10000 + 3 * nr) * 64 + 1, "needsFlush");
    initScalar(this, "needsFlush", false, fl !== null && flushField === undefined ? { trip: fl } : accessLogOn() || flushField ? { key: `${name}.needsFlush`, fs: flushField } : null);
    if (accessLogOn() || fl !== null) {
      // Field footprints (field-log.ts): GPU PTE, GPU TLB entry and userptr mark of va in the
      // nr-th VM are (MAP, 3nr / 3nr+1 / 3nr+2, va, 0); their key sets (MAP, ..., ALL, 0). Entries
      // are never changed in place.
      const sink = (j: number) => (fl === null ? undefined : { log: fl, no: (va: number) => (Number.isInteger(va) && va >= 0 && va <= MAX_INDEX && nr < MAP_OWNER_GPU_END / 3 ? fieldNo(SPACE_MAP, 3 * nr + j, va, 0) : null), all: fieldNo(SPACE_MAP, Math.min(3 * nr + j, MAX_OWNER), INDEX_ALL, 0) });
      (this as { pte: Map<number, GpuPte> }).pte = recordMap(this.pte, `${name}.gpupte`, sink(0));
      (this as { tlb: Map<number, GpuPte> }).tlb = recordMap(this.tlb, `${name}.gputlb`, sink(1));
      (this as unknown as { userptrVas: Map<number, true> }).userptrVas = recordMap(this.userptrVas, `${name}.userptrVas`, sink(2));
    }
  }

  private physical(): boolean {
    return this.dev.domain === null;
  }
  /** The frame an address reaches now, if it can be known (for the stale-install oracle). */
  private frameOf(dma: number): number {
    const dom = this.dev.domain;
    return dom ? (dom.pt.get(dma)?.pfn ?? -1) : dma;
  }

  /** Install (inside a step). */
  set(va: number, dma: number, gen: number, write: boolean, owner: Owner | null, sgt: SgTable | null, who: string): void {
    this.clear(va);
    const e: GpuPte = { dma, gen, write, owner, stamp: owner ? installStamp(this.k, owner.mm, owner.vpn) : NO_STAMP, sgt };
    this.pte.set(va, e);
    if (this.physical()) this.k.mem.hwGet(dma, HW_GPU_PTE);
    if (owner) {
      this.userptrVas.set(va, true);
      deviceMapInstalled(this.k, owner.mm, owner.vpn, this.frameOf(dma), who);
    }
  }
  /** Clear a PTE (inside a step); the TLB is untouched. */
  clear(va: number): void {
    const e = this.pte.get(va);
    if (!e) return;
    this.pte.delete(va);
    if (this.physical()) this.k.mem.hwPut(e.dma, HW_GPU_PTE);
    if (e.owner) deviceMapRemoved(this.k, e.owner.mm, e.owner.vpn, this.frameOf(e.dma));
  }
  /** Flush the GPU TLB (inside a step). */
  flushTlb(): void {
    if (this.physical()) for (const e of this.tlb.values()) this.k.mem.hwPut(e.dma, HW_GPU_TLB);
    this.tlb.clear();
  }
  /** Does the GPU TLB cache va? (assertions, final()) */
  cached(va: number): boolean {
    return this.tlb.has(va);
  }

  /** Was va ever bound to a userptr page (owner view) in this VM? (inside a step) */
  wasUserptr(va: number): boolean {
    return this.userptrVas.has(va);
  }

  /**
   * The first half of a GPU access (inside a step): the engine fetches the translation of va
   * from its GPU TLB, else walks the GPU PTE and fills the TLB. Returns the translation it will
   * use for the memory access, or "gpu-fault" (no GPU translation, or a write through a
   * read-only one: the caller decides recoverable/fatal).
   *
   * The access then completes at a LATER step (`complete`) against this translation, whatever
   * happened to the PTE or the TLB in between: an engine keeps a translation it fetched until
   * it finishes the work item, and DMA already issued lands on the address it was issued for.
   * A driver that tears the mapping down while a job runs therefore does not make the job's
   * write disappear; only waiting for the job does (mmu_interval_notifier contract,
   * include/linux/mmu_notifier.h, "invalidate": stop all device access before returning).
   */
  fetch(va: number, write: boolean): GpuPte | "gpu-fault" {
    let e = this.tlb.get(va);
    if (!e) {
      e = this.pte.get(va);
      if (!e || (write && !e.write)) return "gpu-fault";
      this.tlb.set(va, e);
      if (this.physical()) this.k.mem.hwGet(e.dma, HW_GPU_TLB);
    } else if (write && !e.write) return "gpu-fault";
    return e;
  }

  /**
   * The second half (inside a later step): the DMA goes out on the fetched translation `e`,
   * through the IOMMU (or none) to the frame. Returns "ok" or "iommu-fault". The access is
   * traced here (`gpu_dma`, tracepoints.ts), when it reaches memory; stray-write and stale-access
   * listen (to writes only, as before issue 14).
   */
  complete(e: GpuPte, write: boolean, who: string): "ok" | "iommu-fault" {
    const mem = this.k.mem;
    // Behind an IOMMU the access reads and fills the IOMMU's page table, IOTLB and fault log, all
    // recorded (iommu.ts). The sg table's state is memory's, read only here (no split step writes
    // it; its writers declare all of memory as a write, dma-buf.ts).
    const tr = dmaTranslate(this.dev, e.dma, e.gen, write, who);
    if (!tr) return "iommu-fault";
    const sgt = (tr.tag as SgTable | null) ?? e.sgt;
    if (sgt && sgt.state(mem) === "dead")
      finding("dmabuf-stale-map", `${who} ${write ? "wrote" : "read"} through ${sgt.name} after move_notify and after the move's fence signalled`, { sgt: sgt.name });
    // Lazy-mode window to a frame that is gone: reported as accepted by the IOMMU, not as uaf.
    const gone = mem.isFree(tr.pfn) || mem.gen[tr.pfn] !== tr.gen;
    if (tr.lazyWindow && gone) {
      note(`${who}: access through the lazy IOTLB window reached frame ${tr.pfn}`);
      return "ok";
    }
    trace(this.k, "gpu_dma", { who, write, owner: e.owner, stamp: e.stamp, pfn: tr.pfn });
    if (!write) {
      mem.readFrame(tr.pfn, "device", tr.gen, who);
      return "ok";
    }
    if (e.owner) deviceWrite(this.k, { mm: e.owner.mm, vpn: e.owner.vpn, pfn: tr.pfn, gen: tr.gen, who });
    else mem.writeFrame(tr.pfn, "device", tr.gen, -1, -1, who);
    return "ok";
  }

  /**
   * A whole GPU access in ONE step (fetch, then complete at once): for tests and for callers
   * that model an access which cannot be overtaken. Jobs use fetch and complete in two steps.
   */
  access(va: number, write: boolean, who: string): "ok" | "gpu-fault" | "iommu-fault" {
    const e = this.fetch(va, write);
    return e === "gpu-fault" ? e : this.complete(e, write, who);
  }
}

/** A GPU VM for a device (setup helper; amdgpu_vm_init / i915_ppgtt_create). */
export function gpuvm_create(k: Kernel, name: string, dev: DmaDevice): GpuVm {
  return new GpuVm(k, name, dev);
}

/**
 * Map consecutive VAs to the entries of a mapped sg_table (one step: amdgpu_vm_bo_update /
 * ppgtt insert_entries). `owners[i]` is the CPU page entry i stands for (userptr), if any.
 */
export function* gpuvm_map_sgt(k: Kernel, vm: GpuVm, va: number, sgt: SgTable, owners: readonly (Owner | null)[] = [], who = `${vm.name}: map ${sgt.name}`, opts: MapSgtOptions = {}): Gen<void> {
  // Split (field footprints), as are map, unmap and the TLB flush below: GPU PTEs and TLB, the
  // frames' hardware counts, the oracles' records, the IOMMU page table (frameOf), the sg table
  // (put behind its wrappers first: SgTable.record) and needsFlush are all recorded.
  yield* k.mem.fieldStep(opts.label ?? `gpuvm_map(${vm.name}, VA ${va}.., ${sgt.name})`, "w", () => {
    sgt.record(k);
    for (let i = 0; i < sgt.nents; i++) vm.set(va + i, sgt.dma[i], sgt.gens[i], sgt.write, owners[i] ?? null, sgt, who);
    if (opts.needsFlush) vm.needsFlush = true;
  });
}

export interface MapSgtOptions {
  /** The step's label in traces (default `gpuvm_map(vm, VA va.., sgt)`). */
  readonly label?: string;
  /** Also set vm.needsFlush in the same step (amdgpu_vm_bo_update at v4.16). */
  readonly needsFlush?: boolean;
}

/**
 * amdgpu_vm_flush's hardware effect (amdgpu_vm.c, v4.16, from amdgpu_ib_schedule before a job's
 * IBs run): if the VM's page tables changed since the last flush, flush its GPU TLB. One step,
 * like gpuvm_tlb_flush; it reads needsFlush even when it flushes nothing, which is what orders it
 * against a concurrent gpuvm_map_sgt(..., { needsFlush: true }).
 */
export function* gpuvm_flush_if_needed(k: Kernel, vm: GpuVm, label = `gpuvm_flush_if_needed(${vm.name})`): Gen<void> {
  yield* k.mem.fieldStep(label, "w", () => {
    if (!vm.needsFlush) return;
    vm.flushTlb();
    vm.needsFlush = false;
  });
}

/** Map one VA to a DMA address directly (tests, PRI-style fault handlers). */
export function* gpuvm_map(k: Kernel, vm: GpuVm, va: number, dma: number, write: boolean, owner: Owner | null = null): Gen<void> {
  yield* k.mem.fieldStep(`gpuvm_map(${vm.name}, VA ${va} -> ${dma})`, "w", () => vm.set(va, dma, vm.dev.domain ? 0 : k.mem.gen[dma], write, owner, null, `${vm.name}: map VA ${va}`));
}

/** Clear the PTEs of [va, va+n) WITHOUT a TLB flush (unbind_vma / amdgpu_vm_clear_freed). */
export function* gpuvm_unmap(k: Kernel, vm: GpuVm, va: number, n: number): Gen<void> {
  yield* k.mem.fieldStep(`gpuvm_unmap(${vm.name}, VA ${va}..${va + n})`, "w", () => {
    for (let i = 0; i < n; i++) vm.clear(va + i);
  });
}

/** Invalidate the GPU TLB (amdgpu_gmc_flush_gpu_tlb, i915 TLB invalidation of 7938d61591d3). */
export function* gpuvm_tlb_flush(k: Kernel, vm: GpuVm): Gen<void> {
  yield* k.mem.fieldStep(`gpu_tlb_flush(${vm.name})`, "w", () => vm.flushTlb());
}
