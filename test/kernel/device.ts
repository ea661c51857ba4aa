// A minimal device for the kernel's own tests: one GPU page table mirroring an mm, kept in the
// `memory` object as lib/kernel/README.md asks. The device half builds the real GPU model.
import type { Yieldable } from "../../lib/explorer/index.ts";
import type { Kernel } from "../../lib/kernel/kernel.ts";
import type { Mm } from "../../lib/kernel/mm.ts";
import { HW_GPU_PTE } from "../../lib/kernel/page.ts";
import { deviceMapInstalled, deviceMapRemoved, deviceWrite } from "../../lib/kernel/oracles.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;

export class TestGpu {
  readonly pfn: Int32Array;
  readonly gen: Int32Array;
  constructor(
    readonly k: Kernel,
    readonly mm: Mm,
    readonly name = "gpu",
  ) {
    this.pfn = new Int32Array(mm.npages).fill(-1);
    this.gen = new Int32Array(mm.npages);
  }
  /** Program GPU PTEs for [start, start+pfns.length) in one step (under the driver's lock). */
  *map(start: number, pfns: ArrayLike<number>): Gen<void> {
    yield* this.k.mem.step(`${this.name}: program GPU PTEs ${start}..${start + pfns.length}`, "w", () => {
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
    yield* this.k.mem.step(`${this.name}: clear GPU PTEs ${start}..${end}`, "w", () => {
      for (let vpn = start; vpn < end && vpn < this.pfn.length; vpn++) this.clearOne(vpn);
    });
  }
  /** The GPU writes vpn through its page table (if mapped). */
  *write(vpn: number): Gen<number> {
    return yield* this.k.mem.step(`${this.name}: DMA write ${this.mm.name}:${vpn}`, "w", () => {
      const p = this.pfn[vpn];
      if (p < 0) return -1;
      return deviceWrite(this.k, { mm: this.mm, vpn, pfn: p, gen: this.gen[vpn], who: this.name });
    });
  }
}
