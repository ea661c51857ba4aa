// Swap space and the swap cache (kernel-semantics §13). Model of mm/swap_state.c and
// mm/swapfile.c reduced to: slots holding persisted contents, and the swap-cache association
// slot <-> frame. State is hardware-visible memory: touch it only inside k.mem.step.

import type { Kernel } from "./kernel.ts";

export class Swap {
  /** Persisted contents mask per slot; slotUsed = allocated. */
  readonly data: Int32Array;
  readonly slotUsed: Uint8Array;
  /** Swap cache: frame in the swap cache for a slot, -1 if none. */
  readonly slotPfn: Int32Array;
  /** Reverse: slot of a frame in the swap cache, -1 if none. */
  readonly pfnSlot: Int32Array;
  /** Number of swap PTEs referencing each slot (swap count). */
  readonly count: Int32Array;
  constructor(
    k: Kernel,
    readonly nslots: number,
  ) {
    this.data = new Int32Array(nslots);
    this.slotUsed = new Uint8Array(nslots);
    this.slotPfn = new Int32Array(nslots).fill(-1);
    this.pfnSlot = new Int32Array(k.mem.nframes).fill(-1);
    this.count = new Int32Array(nslots);
  }
  /** get_swap_page: a free slot or -1. */
  allocSlot(): number {
    for (let s = 0; s < this.nslots; s++)
      if (!this.slotUsed[s]) {
        this.slotUsed[s] = 1;
        this.count[s] = 0;
        this.data[s] = 0;
        return s;
      }
    return -1;
  }
}

/** swapon for a scenario (setup only): enables swap-out of anon pages. */
export function swapon(k: Kernel, nslots = 8): Swap {
  k.swap = new Swap(k, nslots);
  return k.swap;
}
