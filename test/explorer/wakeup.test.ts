// insert() of wakeup.ts on hand-made sequences (JACM 2017, Def. 6.2).
import { describe, expect, it } from "vitest";
import { MODE_READ, MODE_WRITE } from "../../lib/explorer/effect.ts";
import { chain, insert, leaves, weakInitial, type WuEvent, type WuNode } from "../../lib/explorer/wakeup.ts";

const ev = (t: number, o: number, m: number, ch: string | null = "", sp = -1): WuEvent => ({ t, o, m, f: null, g: false, ch, sp });
const r = (t: number, o: number) => ev(t, o, MODE_READ);
const w = (t: number, o: number) => ev(t, o, MODE_WRITE);

describe("wakeup trees", () => {
  it("weak initials: a first event with no dependent event before it, or an absent thread independent of all", () => {
    const seq = [w(1, 0), r(2, 0), r(3, 1)];
    expect(weakInitial(w(1, 0), seq)).toBe(true);
    expect(weakInitial(r(2, 0), seq)).toBe(false); // after thread 1's write of object 0
    expect(weakInitial(r(3, 1), seq)).toBe(true);
    expect(weakInitial(r(4, 1), seq)).toBe(true); // absent, reads what nobody writes
    expect(weakInitial(w(4, 1), seq)).toBe(false); // absent, writes what thread 3 reads
    expect(weakInitial({ ...r(4, 5), g: true }, seq)).toBe(false); // ends the execution: dependent with all
  });

  it("a sequence compatible with a leaf changes nothing; otherwise it is appended after the existing branches", () => {
    const kids: WuNode[] = [];
    expect(insert(kids, [r(1, 0), w(2, 0)])).toBe(true);
    expect(leaves(kids)).toBe(1);
    // Thread 3 independent of the branch's first event (a leaf-to-be after descent): covered once a leaf is reached
    expect(insert(kids, [r(3, 1), r(1, 0), w(2, 0)])).toBe(false);
    // Starts with thread 2's write, which is dependent with thread 1's read: a new branch, last
    expect(insert(kids, [w(2, 0)])).toBe(true);
    expect(kids.map((c) => c.ev.t)).toEqual([1, 2]);
  });

  it("descends along a weak initial, removing it, and adds only the rest below", () => {
    const kids: WuNode[] = [chain([r(1, 0), w(2, 0)])];
    // thread 1's read is an initial of this sequence too (thread 3's write is on another object)
    expect(insert(kids, [w(3, 1), r(1, 0), w(3, 0)])).toBe(true);
    expect(kids.length).toBe(1);
    expect(kids[0].children.map((c) => c.ev.t)).toEqual([2, 3]);
    expect(kids[0].children[1].children.map((c) => c.ev.t)).toEqual([3]);
  });

  it("a spawn is dependent with its child's events: the child is no initial of a sequence that spawns it", () => {
    const spawn = ev(1, -1, 0, "", 40); // thread 1's step spawns thread 40 (a stable id, dpor.ts StableIds)
    const seq = [spawn, r(40, 0)];
    expect(weakInitial(r(40, 0), seq)).toBe(false);
    expect(weakInitial(spawn, seq)).toBe(true);
    expect(weakInitial(ev(2, -1, 0), seq)).toBe(true); // another thread's local step
    // A leaf with the child's read does not cover a sequence that must run the spawn first.
    const kids: WuNode[] = [chain([r(40, 0)])];
    expect(insert(kids, seq)).toBe(true);
    expect(kids.map((c) => c.ev.t)).toEqual([40, 1]);
  });

  it("below an inner node the choose() values must match; a leaf covers every value", () => {
    const kids: WuNode[] = [chain([ev(1, 0, MODE_READ, "0"), w(2, 0)])];
    expect(insert(kids, [ev(1, 0, MODE_READ, "1"), w(2, 1)])).toBe(true); // other value: a branch of its own
    expect(kids.length).toBe(2);
    const leaf: WuNode[] = [chain([ev(1, 0, MODE_READ, "0")])];
    expect(insert(leaf, [ev(1, 0, MODE_READ, "1"), w(2, 1)])).toBe(false);
  });
});
