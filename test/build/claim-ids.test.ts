// The duplicate-claim check (build/src/claim-ids.ts) sees claims written through together()'s
// g.claim()/g.check() (lib/explorer/group.ts) as it sees claim()/check().
import path from "node:path";
import { Project } from "ts-morph";
import { describe, expect, it } from "vitest";
import { duplicateClaimIds } from "../../build/src/claim-ids.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");

function duplicates(code: string) {
  const project = new Project({ compilerOptions: { allowImportingTsExtensions: true, noEmit: true, strict: true, module: 99, moduleResolution: 100, target: 10 }, skipAddingFilesFromTsConfig: true });
  const file = path.join(ROOT, "chapters/__claim-ids-probe.ts");
  project.createSourceFile(file, code, { overwrite: true });
  project.addSourceFileAtPath(path.join(ROOT, "lib/explorer/index.ts"));
  project.resolveSourceFileDependencies();
  const program = project.getProgram().compilerObject;
  return duplicateClaimIds(program.getSourceFile(file)!, program.getTypeChecker()).map((d) => [d.id, d.line, d.firstLine]);
}

const head = `import { claim, together, model } from "../lib/explorer/index.ts";\nconst m = model("m", () => ({ threads: {} }));\n`;

describe("duplicate claim ids", () => {
  it("finds a g.claim() that repeats an id and title, inside or outside together()", () => {
    expect(duplicates(head + `claim({ id: "X", title: "t", model: m, predicate: () => true, expect: "Never" });
together((g) => {
  g.claim({ id: "X", title: "t", model: m, predicate: () => true, expect: "Never" });
  g.check({ id: "X", title: "u", model: m, predicate: () => true, expect: "Never" });
  g.check({ id: "X", title: "u", model: m, predicate: () => true, expect: "Never" });
});
`)).toEqual([["X", 5, 3], ["X", 7, 6]]);
  });
});
