// S2 (kernel-semantics §29): a start-only subscriber without page references vs the
// interval-notifier design with read_begin/read_retry, on N pages with V validators and the
// minimal device of mirror-gpu.ts: the shape of ../shared/perf/s2_userptr.pml, on the kernel
// model. Shared by the kernel's tests, the benchmark (bench/kernel.ts) and the book (chapter 03's
// C03.8).
import { finding, model } from "../explorer/index.ts";
import type { Yieldable } from "../explorer/index.ts";
import { boot, type Kernel } from "./kernel.ts";
import type { Era } from "./era.ts";
import { mm_alloc, mmap_region, type Mm } from "./mm.ts";
import { populate } from "./populate.ts";
import { KMutex } from "./mutex.ts";
import { MmuIntervalNotifier, MmuNotifier, type MmuNotifierRange, mmu_interval_notifier_attach, mmu_notifier_attach, mmu_interval_notifier_insert, mmu_interval_read_begin, mmu_interval_read_retry, mmu_interval_set_seq, __mmu_notifier_register } from "./mmu-notifier.ts";
import { EBUSY, hmm_range_fault } from "./hmm.ts";
import { madvise_dontneed } from "./madvise.ts";
import { munmap } from "./munmap.ts";
import { PTE_PRESENT } from "./mm.ts";
import { MirrorGpu } from "./mirror-gpu.ts";

type Gen<T> = Generator<Yieldable, T, unknown>;
export type Trigger = "dontneed" | "munmap";

function* trigger(k: Kernel, mm: Mm, how: Trigger, n: number): Gen<void> {
  if (how === "dontneed") yield* madvise_dontneed(k, mm, 0, n);
  else yield* munmap(k, mm, 0, n);
}

/** A page-table walk without references (the strawman's "collect pfns"). */
function* snapshot(k: Kernel, mm: Mm, n: number, out: Int32Array): Gen<void> {
  yield* mm.mmapLock.downRead();
  for (let vpn = 0; vpn < n; vpn++)
    yield* k.mem.step(`walk ${mm.name}:${vpn}`, "r", () => {
      out[vpn] = mm.pteFlags[vpn] & PTE_PRESENT ? mm.ptePfn[vpn] : -1;
    });
  yield* mm.mmapLock.upRead();
}

// Thread bodies and callbacks are module-level function* called from small arrows: a generator
// function created per execution gets a fresh map when first called (lib/kernel/README.md, "Speed").

/** S2's machine: `pages` populated pages of a process, the device mirroring it, the driver's lock. */
function s2World(era: Era, pages: number, lockName: string) {
  const k = boot(era);
  const mm = mm_alloc(k, 8);
  mmap_region(mm, 0, pages);
  populate(k, mm, 0, pages);
  return { k, mm, gpu: new MirrorGpu(k, mm), lock: new KMutex(k, lockName) };
}

/** start-only-refless: invalidate the device in range_start; the validator installs whatever it collected. */
export function s2StartOnly(era: Era, pages = 1, validators = 1, how: Trigger = "dontneed") {
  return model(`S2 start-only (${era.name}, ${pages} pages, ${validators} validators, ${how})`, () => {
    const { k, mm, gpu, lock } = s2World(era, pages, "drv->lock");
    const sub = new MmuNotifier({ name: "drv_mn", invalidate_range_start: (_s, r) => startOnlyInvalidate(lock, gpu, r) });
    mmu_notifier_attach(sub, mm);
    const threads: Record<string, () => Gen<void>> = { Trigger: () => trigger(k, mm, how, pages) };
    // One body for every validator, bound to a local first (lib/kernel/README.md, "No function
    // literal assigned straight to a property").
    const validator = () => startOnlyValidator(k, mm, lock, gpu, pages);
    for (let v = 0; v < validators; v++) threads[`V${v}`] = validator;
    return { threads };
  });
}

function* startOnlyInvalidate(lock: KMutex, gpu: MirrorGpu, r: MmuNotifierRange): Gen<number> {
  yield* lock.lock();
  yield* gpu.unmap(r.start, r.end);
  yield* lock.unlock();
  return 0;
}

function* startOnlyValidator(k: Kernel, mm: Mm, lock: KMutex, gpu: MirrorGpu, pages: number): Gen<void> {
  const pfns = new Int32Array(pages);
  yield* snapshot(k, mm, pages, pfns);
  yield* lock.lock();
  yield* gpu.map(0, pfns);
  yield* lock.unlock();
}

type Broken = "none" | "no-retry" | "retry-unlocked";

/** mni: interval notifier + hmm_range_fault + read_retry under the driver lock (now only). */
export function s2Mni(era: Era, pages = 1, validators = 1, how: Trigger = "munmap", broken: Broken = "none") {
  return model(`S2 mni (${era.name}, ${pages} pages, ${validators} validators, ${how}, ${broken})`, () => {
    const { k, mm, gpu, lock } = s2World(era, pages, "drv->notifier_lock");
    const sub: MmuIntervalNotifier = new MmuIntervalNotifier(0, pages, { name: "drv_mni", invalidate: (s, r, cur) => mniInvalidate(k, lock, gpu, s, r, cur) });
    mmu_interval_notifier_attach(sub, mm);
    const threads: Record<string, () => Gen<void>> = { Trigger: () => trigger(k, mm, how, pages) };
    const validator = () => mniValidator(k, mm, sub, lock, gpu, pages, broken);
    for (let v = 0; v < validators; v++) threads[`V${v}`] = validator;
    return { threads };
  });
}

function* mniInvalidate(k: Kernel, lock: KMutex, gpu: MirrorGpu, s: MmuIntervalNotifier, r: MmuNotifierRange, cur: number): Gen<boolean> {
  yield* lock.lock();
  yield* mmu_interval_set_seq(k, s, cur);
  yield* gpu.unmap(r.start, r.end);
  yield* lock.unlock();
  return true;
}

function* mniValidator(k: Kernel, mm: Mm, sub: MmuIntervalNotifier, lock: KMutex, gpu: MirrorGpu, pages: number, broken: Broken): Gen<void> {
  const pfns = new Int32Array(pages);
  for (let tries = 0; tries < 3; tries++) {
    const seq = yield* mmu_interval_read_begin(k, sub);
    yield* mm.mmapLock.downRead();
    const r = yield* hmm_range_fault(k, { notifier: sub, notifier_seq: seq, start: 0, end: pages, hmm_pfns: pfns, fault: false, write: false });
    yield* mm.mmapLock.upRead();
    if (r === EBUSY) continue;
    if (broken === "retry-unlocked" && (yield* mmu_interval_read_retry(k, sub, seq))) continue;
    yield* lock.lock();
    if (broken === "none" && (yield* mmu_interval_read_retry(k, sub, seq))) {
      yield* lock.unlock();
      continue;
    }
    yield* gpu.map(0, pfns);
    yield* lock.unlock();
    return;
  }
  // The kernel's validators loop until read_retry passes; three tries are more than one munmap
  // can spoil (one collision, then read_begin waits out the invalidation), which the book's C03.8
  // checks with this finding rather than assume.
  finding("retries-exhausted", `${k.current().name} gave up after three tries: each collided with an invalidation`);
}

export { mmu_interval_notifier_insert, __mmu_notifier_register };
