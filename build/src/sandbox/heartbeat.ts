// The heartbeat a chapter's worker writes and the build's watchdog reads, in shared memory.
//
// A thread body that loops without yielding blocks its worker's event loop, so the worker
// cannot send a message about it; the watchdog sees instead that the beat counter stopped
// moving, and reads from the same memory which simulated thread ran last. Only the worker
// writes; the watchdog only reads (a torn read costs at most one more poll).
//
// The per-step writes are plain stores, not Atomics: with one writer nothing needs a
// read-modify-write, and a locked add plus a sequentially consistent store at every step cost
// the explorer 2.4% of a kernel-model search (C01.2-now's profile). Aligned Int32Array accesses
// on shared memory are tear-free (ECMAScript memory model); the reader polls every few seconds,
// so a store it sees one poll late costs it nothing.

const BEAT = 0; // bumped at every step the explorer takes and every block/module the worker starts
const THREAD = 1; // index of the simulated thread that ran last, -1 outside any execution
const NAMES_LEN = 2; // bytes used in the names area
const HEADER = 4 * 4;
const NAMES_BYTES = 1024;

export const HEARTBEAT_BYTES = HEADER + NAMES_BYTES;

/** The worker's side: cheap enough to call at every step. */
export class HeartbeatWriter {
  private readonly i32: Int32Array;
  private readonly names: Uint8Array;
  private lastNames: readonly string[] = [];

  constructor(buf: SharedArrayBuffer) {
    this.i32 = new Int32Array(buf, 0, HEADER / 4);
    this.names = new Uint8Array(buf, HEADER, NAMES_BYTES);
  }

  beat(): void {
    this.i32[BEAT]++;
  }

  step(thread: number): void {
    this.i32[BEAT]++;
    this.i32[THREAD] = thread;
  }

  /**
   * The thread names of the execution that runs now. Called at every thread creation, so it
   * writes only when `names` is not a prefix of what it last wrote: the reader looks up one index
   * below the current thread count, and executions of one model repeat the same names.
   */
  threads(names: readonly string[]): void {
    const last = this.lastNames;
    if (names.length <= last.length) {
      let prefix = true;
      for (let i = 0; i < names.length && prefix; i++) prefix = names[i] === last[i];
      if (prefix) return;
    }
    this.lastNames = names.map(String);
    const { written } = new TextEncoder().encodeInto(this.lastNames.join("\n"), this.names);
    Atomics.store(this.i32, NAMES_LEN, written);
  }

  outsideExecution(): void {
    Atomics.store(this.i32, THREAD, -1);
  }
}

/** The watchdog's side. */
export class HeartbeatReader {
  private readonly i32: Int32Array;
  private readonly names: Uint8Array;

  constructor(buf: SharedArrayBuffer) {
    this.i32 = new Int32Array(buf, 0, HEADER / 4);
    this.names = new Uint8Array(buf, HEADER, NAMES_BYTES);
  }

  get beats(): number {
    return Atomics.load(this.i32, BEAT);
  }

  /** Name of the simulated thread that ran last, or null outside an execution. */
  thread(): string | null {
    const t = Atomics.load(this.i32, THREAD);
    if (t < 0) return null;
    const len = Atomics.load(this.i32, NAMES_LEN);
    const names = new TextDecoder().decode(this.names.slice(0, len)).split("\n");
    return names[t] ?? `#${t}`;
  }
}
