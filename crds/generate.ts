/**
 * Writes one CRD YAML per Darwin kind into crds/ (npm run gen:crds). With --check it writes nothing and
 * exits 1 when a committed file differs from what the schemas generate.
 */
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { findDrift } from "./src/drift.ts";
import { KINDS } from "./src/index.ts";
import { crdFiles } from "./src/yaml.ts";

const dir = import.meta.dirname;
const drift = findDrift(KINDS, dir);
if (process.argv.includes("--check")) {
  for (const { file, problem } of drift) console.error(`crds/${file}: ${problem}; run npm run gen:crds`);
  process.exit(drift.length === 0 ? 0 : 1);
}
for (const { file, problem } of drift) if (problem === "stale") rmSync(join(dir, file));
for (const [name, content] of crdFiles(KINDS)) writeFileSync(join(dir, name), content);
console.log(
  drift.length === 0 ? "crds/ is up to date" : `regenerated ${drift.map((d) => d.file).join(", ")}`,
);
