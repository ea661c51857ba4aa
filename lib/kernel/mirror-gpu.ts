// A minimal device: one GPU page table mirroring an mm, programmed a range at a time, kept in the
// `memory` object as README.md asks. For the kernel's own tests and the S2 family of s2.ts (the
// book's C03.8); the device half (README-devices.md: gpu.ts, gpu-vm.ts) is the real GPU model,
// with jobs, a GPU TLB and an IOMMU, which this device leaves out: a write goes straight through
// the table.
// Under field footprints its table is recorded (field-log.ts SPACE_DEV: frame and generation per
// page), so its steps are split: they touch the table, the frames' hardware references and the
// oracles' recorded state only (deviceMapInstalled and deviceMapRemoved are tracepoints; deviceWrite
// is what GpuVm's split job steps call too). Unrecorded, every step of it wrote all of memory.
import type { Yieldable } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import type { Mm } from "./mm.ts";
import { HW_GPU_PTE } from "./page.ts";
import { deviceMapInstalled, deviceMapRemoved, deviceWrite } from "./oracles.ts";
import { accessLogOn, recordArray } from "./access-log.ts";
import { DEV_GEN, DEV_PFN, fieldNo, linearFields, SPACE_DEV } from "./field-log.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export class MirrorGpu {
  readonly pfn: Int32Array;
  readonly gen: Int32Array;
  constructor(
    readonly k: Kernel,
    readonly mm: Mm,
    readonly name = "gpu",
  ) {
    this.pfn = new Int32Array(mm.npages).fill(-1);
    this.gen = new Int32Array(mm.npages);
    const fl = k.mem.fields;
    if (fl !== null || accessLogOn()) {
      const owner = fl === null ? 0 : fl.newOwner(SPACE_DEV);
      if (fl !== null) ["pfn", "gen"].forEach((f, i) => fl.names.set(SPACE_DEV * 64 + i, f));
      const sink = (f: number) => (fl === null ? undefined : { log: fl, no: (i: number) => fieldNo(SPACE_DEV, owner, i, f), ...linearFields(SPACE_DEV, owner, f) });
      const me = this as { pfn: Int32Array; gen: Int32Array };
      me.pfn = recordArray(this.pfn, (i) => `${name}.pfn[${i}]`, sink(DEV_PFN));
      me.gen = recordArray(this.gen, (i) => `${name}.gen[${i}]`, sink(DEV_GEN));
    }
  }
  /** Program GPU PTEs for [start, start+pfns.length) in one step (under the driver's lock). */
  *map(start: number, pfns: ArrayLike<number>): Gen<void> {
    yield* this.k.mem.fieldStep(`${this.name}: program GPU PTEs ${start}..${start + pfns.length}`, "w", () => {
      for (let i = 0; i < pfns.length; i++) {
        const vpn = start + i, p = pfns[i];
        if (p < 0) continue;
        this.clearOne(vpn);
        this.pfn[vpn] = p;
        this.gen[vpn] = this.k.mem.gen[p];
        this.k.mem.hwGet(p, HW_GPU_PTE);
        deviceMapInstalled(this.k, this.mm, vpn, p, this.name);
      }
    });
  }
  private clearOne(vpn: number): void {
    const p = this.pfn[vpn];
    if (p < 0) return;
    this.k.mem.hwPut(p, HW_GPU_PTE);
    deviceMapRemoved(this.k, this.mm, vpn, p);
    this.pfn[vpn] = -1;
  }
  /** Tear down GPU PTEs of [start, end) in one step. */
  *unmap(start: number, end: number): Gen<void> {
    yield* this.k.mem.fieldStep(`${this.name}: clear GPU PTEs ${start}..${end}`, "w", () => {
      for (let vpn = start; vpn < end && vpn < this.pfn.length; vpn++) this.clearOne(vpn);
    });
  }
  /** The GPU writes vpn through its page table (if mapped). */
  *write(vpn: number): Gen<number> {
    return yield* this.k.mem.fieldStep(`${this.name}: DMA write ${this.mm.name}:${vpn}`, "w", () => {
      const p = this.pfn[vpn];
      if (p < 0) return -1;
      return deviceWrite(this.k, { mm: this.mm, vpn, pfn: p, gen: this.gen[vpn], who: this.name });
    });
  }
}
