// The streaming DMA API over an IOMMU or none (kernel-semantics §21). Model of
// kernel/dma/mapping.c (dma_map_sg_attrs, dma_unmap_sg_attrs, dma_map_sgtable),
// drivers/iommu/dma-iommu.c (iommu_dma_map_sg, iommu_dma_unmap_sg) and kernel/dma/direct.c
// (dma_direct_map_sg: with no IOMMU the DMA address is the physical address), plus the
// CONFIG_DMA_API_DEBUG check that dma_unmap_sg gets the nents given to dma_map_sg.
//
// A struct device has an IOMMU domain or none. An sg_table lists frames; dma_map_sg fills its DMA
// addresses (one IOVA per page, mapped in ONE step, as iommu_map_sg maps the whole list).
//
// Simplifications: no segment merging (mapped count == nents; a driver that passes the mapped
// count to unmap is therefore not caught when they would differ: errs towards fewer reports);
// coherent devices only (no dma_sync_*, no swiotlb bounce buffers: with bouncing the device never
// touches the original page, so this errs towards MORE device accesses to user frames).

import { checkFootprint, finding } from "../explorer/index.ts";
import type { Tracked, Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { enter, leave } from "./kernel.ts";
import { __iommu_dma_unmap, iommu_domain_alloc, type IommuDomain, type IommuMode, type Translation } from "./iommu.ts";
import { accessLogOn, recordField, recordList } from "./access-log.ts";
import { fnv1a } from "../explorer/fnv.ts";
import { fieldNo, SG_COUNTS, SG_DEV, SG_DMA, SG_GENS, SPACE_SG } from "./field-log.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

/** struct device, as far as DMA goes. */
export interface DmaDevice {
  readonly name: string;
  /** The default domain, or null without an IOMMU (DMA address = pfn). */
  readonly domain: IommuDomain | null;
}

/** A device behind an IOMMU in `mode`, or with none. Setup helper. */
export function dma_device(k: Kernel, name: string, mode: IommuMode): DmaDevice {
  return { name, domain: mode === "none" ? null : iommu_domain_alloc(k, `${name}-domain`, mode) };
}

/** struct sg_table (one page per entry). Fields change only inside k.mem steps. */
export class SgTable {
  /** DMA address per entry (valid while mapped). */
  readonly dma: number[] = [];
  /** Frame generation per entry, captured at map time (a stale physical address is detectable). */
  readonly gens: number[] = [];
  /** nents passed to dma_map_sg and the count it returned (0 = not mapped). */
  orig_nents = 0;
  nents = 0;
  /** The device it is mapped for. */
  dev: DmaDevice | null = null;
  /** dma-buf oracle: "live"; "moved" once move_notify covered it; "dead" once the move's fence
   *  signalled (then no device may access through it). It is memory's state (`k.mem`): device
   *  accesses read it inside memory steps, and it is written in a dma-buf step and a fence step,
   *  which must therefore declare memory as a write or DPOR treats the access and the signal as
   *  independent and loses the access that lands between the free and the signal (chapter 11,
   *  C11.9). The accessors check the footprint in every execution. */
  private st: SgState = "live";
  /** Field footprints: are dma, gens, the counts and dev behind recording wrappers yet? */
  private recorded = false;
  constructor(
    readonly name: string,
    readonly pages: readonly number[],
    readonly write = true,
  ) {}
  /** The oracle state, read inside a step that declares `mem` (the kernel's PhysMem). */
  state(mem: Tracked): SgState {
    checkFootprint(mem, false, `${this.name}.state`);
    return this.st;
  }
  /** Set the oracle state inside a step that declares `mem` as a write. */
  setState(mem: Tracked, s: SgState): void {
    checkFootprint(mem, true, `${this.name}.state`);
    this.st = s;
  }
  /**
   * Field footprints (field-log.ts): put dma, gens, the counts and dev behind recording wrappers,
   * once. A table is made without the kernel (sg_alloc_table_from_pages), so every split step that
   * reaches one calls this first, inside its run: each access of a split step is then recorded.
   * Its fields are numbered by a hash of its name, never by the order tables were first touched:
   * the same table has the same number in every execution; two tables that share a number only
   * depend on each other more than they need to.
   */
  record(k: Kernel): this {
    const fl = k.mem.fields;
    if (this.recorded || (fl === null && !accessLogOn())) return this;
    this.recorded = true;
    const owner = fnv1a(this.name) & 0xffff;
    const one = (f: number) => (fl === null ? undefined : { log: fl, no: () => fieldNo(SPACE_SG, owner, 0, f) });
    const me = this as unknown as { dma: number[]; gens: number[] };
    me.dma = recordList(this.dma, `${this.name}.dma`, one(SG_DMA));
    me.gens = recordList(this.gens, `${this.name}.gens`, one(SG_GENS));
    recordField(this, "orig_nents", `${this.name}.nents`, one(SG_COUNTS));
    recordField(this, "nents", `${this.name}.nents`, one(SG_COUNTS));
    recordField(this, "dev", `${this.name}.dev`, one(SG_DEV));
    if (fl !== null) ["dma", "gens", "nents", "dev"].forEach((n, i) => fl.names.set(SPACE_SG * 64 + i, n));
    return this;
  }
}

export type SgState = "live" | "moved" | "dead";

/** sg_alloc_table_from_pages (no allocation modelled; callers allocate before if they want). */
export function sg_alloc_table_from_pages(name: string, pages: readonly number[], write = true): SgTable {
  return new SgTable(name, pages, write);
}

/** The effect of dma_map_sg, for use inside a memory step (or at setup, which has no steps). */
export function __dma_map_sg(k: Kernel, dev: DmaDevice, sgt: SgTable): number {
  sgt.record(k);
  const dom = dev.domain;
  sgt.dev = dev;
  sgt.orig_nents = sgt.pages.length;
  sgt.dma.length = 0;
  sgt.gens.length = 0;
  for (const pfn of sgt.pages) {
    const gen = k.mem.gen[pfn];
    sgt.gens.push(gen);
    if (!dom) {
      sgt.dma.push(pfn);
      continue;
    }
    const iova = dom.allocIova();
    dom.setPte(iova, pfn, gen, sgt.write, sgt);
    sgt.dma.push(iova);
  }
  sgt.nents = sgt.pages.length;
  return sgt.nents;
}

/** dma_map_sg(dev, sgl, nents, dir): the number of DMA segments (== nents here), 0 on failure. */
export function* dma_map_sg(k: Kernel, dev: DmaDevice, sgt: SgTable): Gen<number> {
  const __k = enter(k, "dma_map_sg");
  try {
    // Split (field footprints): the sg table, the IOMMU's page table and IOVA allocator and the
    // frames' generations and hardware counts are all recorded.
    return yield* k.mem.fieldStep(`dma_map_sg(${dev.name}, ${sgt.name}: frames ${sgt.pages.join(",")})`, "w", () => __dma_map_sg(k, dev, sgt));
  } finally {
    leave(__k);
  }
}

/** dma_unmap_sg(dev, sgl, nents, dir): nents must be what was passed to dma_map_sg. */
export function* dma_unmap_sg(k: Kernel, dev: DmaDevice, sgt: SgTable, nents = sgt.orig_nents): Gen<void> {
  const __k = enter(k, "dma_unmap_sg");
  try {
    if (nents !== sgt.orig_nents || sgt.dev !== dev)
      finding("dma-api", `dma_unmap_sg(${dev.name}, ${sgt.name}) with nents ${nents}${sgt.dev !== dev ? " for another device" : ""}; dma_map_sg was given ${sgt.orig_nents} (DMA-API debug)`, { sgt: sgt.name });
    const iovas = sgt.dma.slice(0, sgt.nents);
    if (dev.domain) yield* __iommu_dma_unmap(k, dev.domain, iovas);
    yield* k.mem.fieldStep(`dma_unmap_sg done (${sgt.name})`, "w", () => {
      sgt.record(k);
      sgt.nents = 0;
      sgt.orig_nents = 0;
    });
  } finally {
    leave(__k);
  }
}

/** dma_map_sgtable: stores both counts; 0 or -EINVAL. */
export function* dma_map_sgtable(k: Kernel, dev: DmaDevice, sgt: SgTable): Gen<number> {
  const n = yield* dma_map_sg(k, dev, sgt);
  return n > 0 ? 0 : -22;
}
export function* dma_unmap_sgtable(k: Kernel, dev: DmaDevice, sgt: SgTable): Gen<void> {
  yield* dma_unmap_sg(k, dev, sgt, sgt.orig_nents);
}

/**
 * A device access to DMA address `addr` (inside the step that touches the frame). `gen` is the
 * frame generation the device's own copy of the address was made for (used without an IOMMU).
 * Returns the translation, or null when the IOMMU faulted (access dropped).
 */
export function dmaTranslate(dev: DmaDevice, addr: number, gen: number, write: boolean, who: string, tag: unknown = null): Translation | null {
  if (!dev.domain) return { pfn: addr, gen, tag, lazyWindow: false };
  return dev.domain.translate(addr, write, who);
}
