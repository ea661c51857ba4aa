// Scenario S2 ported from bench/s2_userptr.pml (the SPIN model of ../shared/perf/) to the
// explorer, at the SAME granularity: every Promela `atomic`/`d_step` block, and every plain
// statement that touches a global, is exactly one explorer step. Statements that touch only a
// process's locals (i = 0, got = 0, goto, the do-loop guards on locals) are folded into the
// neighbouring step: they commute with everything, and SPIN's own partial-order reduction
// treats them the same way. Plain explorer objects, not the kernel model.
//
// Objects, and why so few. An explorer step touches ONE object (lib/explorer/effect.ts). The
// Promela globals group as follows:
//   L     a Mutex            lock(L) is `atomic { L == 0 -> L = _pid + 1 }`, unlock(L) is `L = 0`
//   seq   a counter          FIXED only: seq++ (write), read_begin blocks while odd (write, since
//                            it blocks on seq), the retry check reads it
//   mem   everything else    cpu_pte[], ref[], freed[], gpu_pte[]
// `mem` has to be one object: the two d_steps write every gpu_pte[i]; T_gpu's step reads
// gpu_pte[i] and freed[i]; put_page writes ref[i] and freed[i]; GUP reads cpu_pte[i] and writes
// ref[i]. With one-object steps that closure is all four arrays, so every mem step except
// T_gpu's reads is dependent with every other, and DPOR can reduce only around L and seq.
// (Multi-object steps, issue 13's first "means", would let mem split per page.)
//
// KEEP_PIN (the 2018 amdgpu pin variant) is not ported; FIXED=0/1 are.
// Property, as pan checks it with -DSAFETY: the assertion (the GPU never writes a freed page,
// finding "uaf", which ends the execution as a failed assert ends pan's search path) and no
// invalid end state (finding "deadlock").

// Every step hands its thread only its result (run() writes object fields, never a variable of a
// thread): the bench's stateful rows promise it (search.resultsOnly) and key histories by results.
import { Mutex, model, Obj, finding, type Model } from "../lib/explorer/index.ts";
import type { Yieldable } from "../lib/explorer/effect.ts";

export interface S2PromelaParams {
  /** NPAGES */
  readonly pages: number;
  /** NVAL: concurrent validators */
  readonly validators: number;
  /** FIXED: the interval-notifier sequence check (read_begin / read_retry) */
  readonly fixed: boolean;
  /**
   * Declare the validators interchangeable (symmetry reduction, lib/explorer/symmetry.ts; only
   * the stateful strategy uses it). Their code is identical: the loop index v is never read.
   */
  readonly symmetry?: boolean;
}

/** The interval notifier's invalidate_seq: odd while an invalidation is in progress. */
class Seq extends Obj {
  private v = 0;
  constructor() {
    super("seq", "seq");
  }
  /** The stateful strategy's key (lib/explorer/stateful.ts). */
  stateKey(): number {
    return this.v;
  }
  get threadsInKey(): "none" {
    return "none";
  }
  snapshot(): number {
    return this.v;
  }
  restore(s: unknown): void {
    this.v = s as number;
  }
  /** `seq++` */
  inc(): Generator<Yieldable, void, unknown> {
    return this.access<void>("inc", "w", { run: () => { this.v++; } });
  }
  /** `atomic { (seq % 2) == 0 -> s = seq }`: blocks while odd, so a write on seq (see effect.ts). */
  readBegin(): Generator<Yieldable, number, unknown> {
    return this.access("read_begin", "w", { enabled: () => this.v % 2 === 0, run: () => this.v });
  }
  /** The guard `seq != s` of the retry check. */
  read(): Generator<Yieldable, number, unknown> {
    return this.access("read", "r", { run: () => this.v });
  }
}

/** cpu_pte[], ref[], freed[], gpu_pte[] of the Promela model. */
class Mem extends Obj {
  private readonly cpuPte: boolean[];
  private readonly ref: number[];
  private readonly freed: boolean[];
  private readonly gpuPte: boolean[];
  constructor(private readonly n: number) {
    super("mem", "mem");
    // init's d_step: every CPU PTE present, each page referenced once by its mapping.
    this.cpuPte = Array(n).fill(true);
    this.ref = Array(n).fill(1);
    this.freed = Array(n).fill(false);
    this.gpuPte = Array(n).fill(false);
  }
  get threadsInKey(): "none" {
    return "none";
  }
  /** Every array, exactly (the stateful strategy's key). */
  stateKey(): string {
    let k = "";
    for (let i = 0; i < this.n; i++) k += `${+this.cpuPte[i]}${this.ref[i]}${+this.freed[i]}${+this.gpuPte[i]},`;
    return k;
  }
  snapshot(): [boolean[], number[], boolean[], boolean[]] {
    return [this.cpuPte.slice(), this.ref.slice(), this.freed.slice(), this.gpuPte.slice()];
  }
  restore(s: unknown): void {
    const [c, r, f, g] = s as [boolean[], number[], boolean[], boolean[]];
    for (let i = 0; i < this.n; i++) {
      this.cpuPte[i] = c[i];
      this.ref[i] = r[i];
      this.freed[i] = f[i];
      this.gpuPte[i] = g[i];
    }
  }
  private putPage(i: number): void {
    if (--this.ref[i] === 0) this.freed[i] = true;
  }
  /** The d_step of the driver callback (gpu_pte[*] = false) or of the install (gpu_pte[*] = true). */
  setGpuPtes(valid: boolean): Generator<Yieldable, void, unknown> {
    return this.access<void>(valid ? "install_gpu_ptes" : "invalidate_gpu_ptes", "w", { run: () => { this.gpuPte.fill(valid); } });
  }
  /** `cpu_pte[i] = false` */
  clearCpuPte(i: number): Generator<Yieldable, void, unknown> {
    return this.access<void>("clear_cpu_pte", "w", { run: () => { this.cpuPte[i] = false; } });
  }
  /** `atomic { put_page(i); i++ }` */
  put(i: number): Generator<Yieldable, void, unknown> {
    return this.access<void>("put_page", "w", { run: () => this.putPage(i) });
  }
  /** The GUP do-loop for page got: `cpu_pte[got] -> ref[got]++` (true) or `!cpu_pte[got] -> fault` (false). */
  gup(got: number): Generator<Yieldable, boolean, unknown> {
    return this.access("gup", "w", {
      run: () => {
        if (!this.cpuPte[got]) return false;
        this.ref[got]++;
        return true;
      },
    });
  }
  /** T_gpu: `atomic { gpu_pte[i] -> assert(!freed[i]) ... }` */
  gpuWrite(i: number): Generator<Yieldable, void, unknown> {
    return this.access<void>("gpu_write", "r", {
      run: () => {
        if (this.gpuPte[i] && this.freed[i]) finding("uaf", `GPU wrote page ${i} after it was freed`, undefined, { end: true });
      },
    });
  }
}

// The threads are module-level functions: a `function*` made in the setup would be made again
// for every execution (lib/kernel/README.md, "No generator functions made per execution").

/** T_unmap: the notifier callback under L (seq++ when FIXED), then unmap and put every page. */
function* tUnmap(n: number, L: Mutex, seq: Seq | null, mem: Mem): Generator<Yieldable, void, unknown> {
  yield* L.lock();
  if (seq) yield* seq.inc();
  yield* mem.setGpuPtes(false);
  yield* L.unlock();
  for (let i = 0; i < n; i++) {
    yield* mem.clearCpuPte(i);
    yield* mem.put(i);
  }
  if (seq) yield* seq.inc();
}

/** T_validate: GUP every page, then install the GPU PTEs under L (retrying when FIXED and seq moved). */
function* tValidate(n: number, L: Mutex, seq: Seq | null, mem: Mem): Generator<Yieldable, void, unknown> {
  for (;;) {
    const s = seq ? yield* seq.readBegin() : 0;
    let got = 0;
    while (got < n && (yield* mem.gup(got))) got++;
    if (got === n) {
      yield* L.lock();
      if (seq && (yield* seq.read()) !== s) {
        yield* L.unlock();
        for (let i = 0; i < got; i++) yield* mem.put(i); // release_retry
        continue;
      }
      yield* mem.setGpuPtes(true);
      yield* L.unlock();
    }
    for (let i = 0; i < got; i++) yield* mem.put(i); // fault / release_done
    return;
  }
}

/** T_gpu: write every page through the GPU PTEs. */
function* tGpu(n: number, mem: Mem): Generator<Yieldable, void, unknown> {
  for (let i = 0; i < n; i++) yield* mem.gpuWrite(i);
}

export function s2Promela(p: S2PromelaParams): Model<Record<string, never>> {
  const { pages: n, validators, fixed } = p;
  return model(`s2_userptr.pml NPAGES=${n} NVAL=${validators} FIXED=${fixed ? 1 : 0}`, () => {
    const L = new Mutex("L");
    const seq = fixed ? new Seq() : null;
    const mem = new Mem(n);
    // One object literal (lib/kernel/README.md, "No function literal assigned straight to a property").
    const threads: Record<string, () => Generator<Yieldable, void, unknown>> = Object.fromEntries([
      ["T_unmap", () => tUnmap(n, L, seq, mem)],
      ...Array.from({ length: validators }, (_, v) => [`T_validate${v}`, () => tValidate(n, L, seq, mem)]),
      ["T_gpu", () => tGpu(n, mem)],
    ]);
    const group = Object.keys(threads).filter((t) => t.startsWith("T_validate"));
    return { threads, symmetry: p.symmetry && group.length > 1 ? [group] : undefined };
  });
}
