/** Finds committed CRD files that no longer match what the schemas generate. */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { GROUP } from "./common.ts";
import type { KindDefinition } from "./kind.ts";
import { crdFiles } from "./yaml.ts";

export interface Drift {
  file: string;
  problem: "differs" | "missing" | "stale";
}

export function findDrift(kinds: readonly KindDefinition[], dir: string): Drift[] {
  const expected = crdFiles(kinds);
  const drift: Drift[] = [];
  for (const [file, content] of expected) {
    const path = join(dir, file);
    if (!existsSync(path)) drift.push({ file, problem: "missing" });
    else if (readFileSync(path, "utf8") !== content) drift.push({ file, problem: "differs" });
  }
  for (const file of readdirSync(dir)) {
    if (file.startsWith(`${GROUP}_`) && file.endsWith(".yaml") && !expected.has(file))
      drift.push({ file, problem: "stale" });
  }
  return drift;
}
