// ClaimSpec.reads (lib/explorer/subscriptions.ts): a predicate's view refuses kinds it did not
// declare; a search runs its model subscribed to the union of its claims' reads; a witness is
// replayed with every oracle on; claims with different reads never share a search.
import { describe, expect, it } from "vitest";
import { check, checkAll, model, SharedVar, subscribed, finding, together } from "../../lib/explorer/index.ts";

/** Two threads race on x; an "oracle" reports `ghost` (only when subscribed) and the mechanics `real`. */
const m = model("subscriptions", () => {
  const x = new SharedVar("x", 0);
  const ghostOn = subscribed("ghost");
  let asked = 0;
  return {
    threads: {
      A: function* () {
        const v = yield* x.read();
        yield* x.write(v + 1);
        if (ghostOn) finding("ghost", "ghost seen");
      },
      B: function* () {
        const v = yield* x.read();
        yield* x.write(v + 1);
        finding("real", `x was ${v}`);
      },
    },
    final: () => ({ x: x.peek(), ghostOn, asked: asked++ }),
  };
});

describe("ClaimSpec.reads", () => {
  it("the predicate's view refuses a kind the claim did not declare, naming the claim, the kind and reads", () => {
    const r = () => check({ id: "T1", title: "asks ghost", model: m, reads: ["real"], predicate: (e) => e.has("ghost"), expect: "Never", search: { strategy: "dfs" } });
    expect(r).toThrow(/T1 "asks ghost" declares reads: \["real"\].*about "ghost" findings.*add the kind to reads/);
    const all = () => check({ title: "lists all", model: m, reads: ["real"], predicate: (e) => e.findings.length > 0, expect: "Never", search: { strategy: "dfs" } });
    expect(all).toThrow(/e\.findings \(every kind\); use e\.has\(kind\) or e\.findingsOf\(kind\)/);
    expect(() => check({ title: "bad", model: m, reads: "real" as never, predicate: () => true, expect: "Never" })).toThrow(/reads must be a list of finding kinds/);
  });

  it("the claim's record says what its predicate read (sorted, once each); without reads it says nothing", () => {
    const r = check({ title: "reads recorded", model: m, reads: ["real", "ghost", "real"], predicate: (e) => e.has("real") && e.has("ghost"), expect: "Sometimes", search: { strategy: "dfs" } });
    expect(r.reads).toEqual(["ghost", "real"]);
    expect(check({ title: "final only", model: m, reads: [], predicate: (e) => e.final.x > 2, expect: "Never", search: { strategy: "dfs" } }).reads).toEqual([]);
    expect("reads" in check({ title: "every kind", model: m, predicate: () => false, expect: "Never", search: { strategy: "dfs" } })).toBe(false);
  });

  it("the model is subscribed to what the search's claims read; without reads, to everything", () => {
    const seen = (reads?: string[]) => {
      const on = new Set<boolean>();
      check({ title: "t", model: m, ...(reads ? { reads } : {}), predicate: (e) => (on.add(e.final.ghostOn), false), expect: "Never", search: { strategy: "dfs" } });
      return [...on];
    };
    expect(seen()).toEqual([true]);
    expect(seen(["real"])).toEqual([false]);
    expect(seen(["ghost"])).toEqual([true]);
    expect(seen([])).toEqual([false]);
    // Every strategy runs the subscribed model (the stateful one used to wrap it and drop reads).
    for (const search of [{ strategy: "dpor" }, { strategy: "dpor", fields: true }, { strategy: "bounded", preemptions: 1 }, { strategy: "stateful" }, { strategy: "stateful", snapshots: true, resultsOnly: true }] as const) {
      const on = new Set<boolean>();
      check({ title: `t ${JSON.stringify(search)}`, model: m, reads: ["real"], predicate: (e) => (on.add(e.final.ghostOn), false), expect: "Never", search });
      expect([...on], JSON.stringify(search)).toEqual([false]);
    }
  });

  it("a witness is replayed with every oracle on: it shows findings no claim read", () => {
    const r = check({ title: "real", model: m, reads: ["real"], predicate: (e) => e.findingsOf("real").some((f) => f.message === "x was 1"), expect: "Never", search: { strategy: "dpor" } });
    expect(r.observed).toBe("Sometimes");
    expect(r.pass).toBe(false);
    expect(r.witness!.findings.map((f) => f.kind).sort()).toEqual(["ghost", "real"]);
  });

  it("a finding that ends its execution ends it whatever the claims read: the same tree, the same statuses", () => {
    const stops = model("stops", () => {
      const x = new SharedVar("x", 0);
      return {
        threads: {
          A: function* () {
            if ((yield* x.read()) === 0) finding("stop", "A saw 0", undefined, { end: true });
            yield* x.write(2);
          },
          B: function* () {
            yield* x.write(1);
            yield* x.write(3);
          },
        },
        final: () => x.peek(),
      };
    });
    const run = (reads?: string[]) => {
      const statuses: string[] = [];
      const r = check({ title: "t", model: stops, ...(reads ? { reads } : {}), predicate: (e) => (statuses.push(`${e.status} ${e.final}`), false), expect: "Never", search: { strategy: "dpor" } });
      return { n: r.stats.executions, statuses: statuses.sort() };
    };
    const all = run();
    expect(all.statuses.some((s) => s.startsWith("stopped"))).toBe(true);
    expect(run([])).toEqual(all);
  });

  it("claims with different reads do not share a search; with the same reads they do", () => {
    const a = { title: "a", model: m, reads: ["real"], predicate: () => false, expect: "Never" as const, search: { strategy: "dfs" as const } };
    const b = { ...a, title: "b", reads: ["ghost"] };
    expect(() => checkAll([a, b])).toThrow(/has search\/budget .*"reads":\["ghost"\]/);
    const alone = check(a).stats.executions;
    expect(checkAll([a, { ...a, title: "a2" }]).map((r) => r.stats.executions)).toEqual([alone, alone]);
    // together() runs them in two searches, each as it would alone.
    const [ra, rb] = together((g) => {
      g.check(a);
      g.check(b);
    });
    expect([ra.stats.executions, rb.stats.executions]).toEqual([check(a).stats.executions, check(b).stats.executions]);
  });
});
