// The CI workflows are checked against GitHub's workflow schema (@action-validator/core), so a
// typo in a key fails here rather than on the first pull request.

import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { describe, expect, it } from "vitest";

const DIR = path.resolve(import.meta.dirname, "../../.github/workflows");
const files = readdirSync(DIR).filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"));

describe("CI workflows", () => {
  it("there is a pull-request workflow", () => expect(files).toContain("book-diff.yml"));
  for (const f of files) {
    it(`${f} is a valid workflow`, () => {
      const state = validateWorkflow(readFileSync(path.join(DIR, f), "utf8"));
      expect(state.errors, JSON.stringify(state.errors, null, 2)).toEqual([]);
    });
  }
  it("the check can fail: a misspelt key is an error", () => {
    const bad = readFileSync(path.join(DIR, "book-diff.yml"), "utf8").replace("runs-on:", "runs_on:");
    expect(validateWorkflow(bad).errors.length).toBeGreaterThan(0);
  });
});
