// The machine's state as a witness's state panel shows it (the explorer's StateView: groups →
// objects → fields, all strings). boot() registers kernelView(k) with the explorer's stateView(),
// so every model that boots a kernel has a panel without a line in its chapter; the explorer
// calls it only when the book replays a witness, never while searching.
//
// It reads the same fields the oracles read (page.ts, mm.ts, mmu-notifier.ts, gpu-vm.ts,
// iommu.ts, dma-fence.ts) and changes nothing. What it leaves out: frames never allocated, the
// zero page (pfn 0, never freed), empty PTEs and TLB entries, per-page flags other than dirty.
// Locks held and waited for come from the explorer's own "threads" group.

import type { StateView } from "../explorer/index.ts";
import type { Kernel } from "./kernel.ts";
import { PTE_DIRTY, PTE_MIGRATION, PTE_PRESENT, PTE_SPECIAL, PTE_SWAP, PTE_SWP_EXCLUSIVE, PTE_WRITE, PTE_YOUNG } from "./mm.ts";
import { HW_KINDS, HW_NAMES, PG_DIRTY } from "./page.ts";

/** What view() needs of a GPU VM and an IOMMU domain (structural: no import cycle). */
interface ViewedGpuVm {
  readonly name: string;
  readonly pte: ReadonlyMap<number, { readonly dma: number; readonly write: boolean }>;
  readonly tlb: ReadonlyMap<number, { readonly dma: number; readonly write: boolean }>;
}
interface ViewedIommu {
  readonly name: string;
  readonly pt: ReadonlyMap<number, { readonly pfn: number; readonly write: boolean }>;
  readonly fq: readonly number[];
  iotlbEntries(): Iterable<[number, { readonly pfn: number; readonly write: boolean; readonly stale: boolean }]>;
}
interface ViewedFence {
  readonly name: string;
  readonly published: boolean;
  readonly signalled?: boolean;
  readonly error?: number;
  isSignaled(): boolean;
}

/** Device objects of one kernel, registered by their constructors (per execution, like k). */
export class ViewedDevices {
  readonly gpuVms: ViewedGpuVm[] = [];
  readonly iommus: ViewedIommu[] = [];
  readonly fences: ViewedFence[] = [];
}

/** The device objects kernel k's panel shows (per execution; on the kernel: see Kernel.devState). */
export function viewedDevices(k: Kernel): ViewedDevices {
  return (k.viewedDevices ??= new ViewedDevices());
}

const hex = (n: number) => `0x${n.toString(16)}`;

function pteWords(flags: number): string {
  const w: string[] = [];
  if (flags & PTE_PRESENT) w.push("present");
  if (flags & PTE_SWAP) w.push("swap");
  if (flags & PTE_MIGRATION) w.push("migration");
  if (flags & PTE_WRITE) w.push("write");
  if (flags & PTE_DIRTY) w.push("dirty");
  if (flags & PTE_YOUNG) w.push("young");
  if (flags & PTE_SPECIAL) w.push("special");
  if (flags & PTE_SWP_EXCLUSIVE) w.push("exclusive");
  return w.join(" ");
}

export function kernelView(k: Kernel): StateView {
  const out: StateView = {};
  const mem = k.mem;
  for (const mm of k.mms) {
    const pt: Record<string, Record<string, string>> = {};
    for (let vpn = 0; vpn < mm.npages; vpn++) {
      const f = mm.pteFlags[vpn]!, p = mm.ptePfn[vpn]!, t = mm.tlbPfn[vpn]!;
      const row: Record<string, string> = {};
      if (p >= 0 || f !== 0) row["pte"] = `${f & PTE_SWAP ? "slot" : "pfn"} ${p} ${pteWords(f)}`.trimEnd();
      if (t >= 0) row["TLB"] = `pfn ${t}${mm.tlbWrite[vpn] ? " write" : ""}`;
      if (mm.invalActive[vpn]! > 0) row["invalidating"] = `${mm.invalActive[vpn]} range${mm.invalActive[vpn] === 1 ? "" : "s"}`;
      if (Object.keys(row).length > 0) pt[`vpn ${vpn}`] = row;
    }
    out[`${mm.name} page table`] = pt;
    // One table of three columns: the mm's subscriptions (invalidate_seq, active_invalidate_ranges) and each
    // subscriber; an interval subscriber's own sequence number is the one drivers compare.
    const n = mm.notifiers;
    if (n.hasNotifiers() || n.invalidateSeq !== 2 || n.activeInvalidateRanges > 0) {
      const subs: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>; // keyed by drivers' names (any string)
      subs["subscriptions"] = { kind: "mm", seq: String(n.invalidateSeq), "in flight": String(n.activeInvalidateRanges) };
      for (const s of n.hlist) subs[s.ops.name] = { kind: "classic", seq: "", "in flight": "" };
      for (const s of n.itree) subs[`${s.ops.name} [${s.start}, ${s.end})`] = { kind: "interval", seq: String(s.invalidateSeq), "in flight": "" };
      out[`${mm.name} notifiers`] = subs;
    }
  }
  const frames: Record<string, Record<string, string>> = {};
  for (let pfn = 1; pfn < mem.nframes; pfn++) {
    if (mem.gen[pfn] === 0) continue; // never allocated
    const free = mem.isFree(pfn);
    const hw: string[] = [];
    for (let kind = 0; kind < HW_KINDS; kind++) {
      const c = mem.hw[pfn * HW_KINDS + kind]!;
      if (c !== 0) hw.push(`${HW_NAMES[kind]} ${c}`);
    }
    frames[`pfn ${pfn}`] = {
      state: free ? "free" : "in use",
      ref: String(mem.ref[pfn]),
      map: String(mem.mapcount[pfn]),
      pins: String(mem.pins[pfn]),
      dirty: mem.flags[pfn]! & PG_DIRTY ? "dirty" : "",
      "hw refs": hw.join(", "),
    };
  }
  out["frames"] = frames;
  const dev = k.viewedDevices;
  for (const vm of dev?.gpuVms ?? []) {
    const rows: Record<string, Record<string, string>> = {};
    const vas = [...new Set([...vm.pte.keys(), ...vm.tlb.keys()])].sort((a, b) => a - b);
    for (const va of vas) {
      const p = vm.pte.get(va), t = vm.tlb.get(va);
      rows[`va ${va}`] = { pte: p ? `dma ${hex(p.dma)}${p.write ? " write" : ""}` : "", TLB: t ? `dma ${hex(t.dma)}${t.write ? " write" : ""}` : "" };
    }
    out[`GPU VM ${vm.name}`] = rows;
  }
  for (const d of dev?.iommus ?? []) {
    const rows: Record<string, Record<string, string>> = {};
    const tlb = new Map(d.iotlbEntries());
    const iovas = [...new Set([...d.pt.keys(), ...tlb.keys()])].sort((a, b) => a - b);
    for (const iova of iovas) {
      const p = d.pt.get(iova), t = tlb.get(iova);
      rows[`iova ${hex(iova)}`] = { pte: p ? `pfn ${p.pfn}${p.write ? " write" : ""}` : "", IOTLB: t ? `pfn ${t.pfn}${t.stale ? " stale" : ""}` : "" };
    }
    if (d.fq.length > 0) rows["flush queue"] = { iovas: d.fq.map(hex).join(", ") };
    out[`IOMMU ${d.name}`] = rows;
  }
  const fences: Record<string, Record<string, string>> = Object.create(null) as Record<string, Record<string, string>>;
  for (const f of dev?.fences ?? []) {
    fences[f.name] = { state: f.isSignaled() ? "signalled" : "unsignalled", error: f.error ? String(f.error) : "", published: f.published ? "yes" : "no" };
  }
  if (Object.keys(fences).length > 0) out["fences"] = fences;
  return out;
}
