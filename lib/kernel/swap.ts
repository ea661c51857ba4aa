// Swap space and the swap cache (kernel-semantics §13). Model of mm/swap_state.c and
// mm/swapfile.c reduced to: slots holding persisted contents, and the swap-cache association
// slot <-> frame. State is hardware-visible memory: touch it only inside a memory step.
//
// Field footprints (field-log.ts): every array is recorded, per slot or per frame (SPACE_SWAP), so
// a split memory step may read and write swap state (reclaim's add_to_swap and pageout,
// try_to_unmap_one's swap entry). Made at setup (swapon), after the kernel's field log.

import type { Kernel } from "./kernel.ts";
import { accessLogOn, recordArray, type ArraySink } from "./access-log.ts";
import { fieldNo, linearFields, SPACE_SWAP, SW_COUNT, SW_DATA, SW_PFN_SLOT, SW_SLOT_PFN, SW_USED } from "./field-log.ts";

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
    const fl = k.mem.fields;
    if (fl === null && !accessLogOn()) return;
    const sink = (f: number): ArraySink | undefined => (fl === null ? undefined : { log: fl, no: (i) => fieldNo(SPACE_SWAP, 0, i, f), ...linearFields(SPACE_SWAP, 0, f) });
    const me = this as unknown as Record<string, Int32Array | Uint8Array>;
    const names: [string, number][] = [["data", SW_DATA], ["slotUsed", SW_USED], ["slotPfn", SW_SLOT_PFN], ["count", SW_COUNT], ["pfnSlot", SW_PFN_SLOT]];
    for (const [name, f] of names) {
      me[name] = recordArray(me[name], (i) => `S${i}.${name}`, sink(f));
      fl?.names.set(SPACE_SWAP * 64 + f, name);
    }
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
