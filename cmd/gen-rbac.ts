/**
 * Writes the operator's and the data-plane services' RBAC into config/rbac/ (npm run gen:rbac). With --check it writes nothing and exits
 * 1 when a committed file differs from what the declarations generate (a controller gained a kind or a
 * rule and nobody regenerated).
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { darwinRoles, dataplaneRbacFiles, findRbacDrift, RBAC_DIR, rbacFiles } from "./rbac.ts";

const expected = new Map([...rbacFiles(darwinRoles()), ...dataplaneRbacFiles()]);
const drift = findRbacDrift(expected);
if (process.argv.includes("--check")) {
  for (const { file, problem } of drift)
    console.error(`config/rbac/${file}: ${problem}; run npm run gen:rbac`);
  process.exit(drift.length === 0 ? 0 : 1);
}
mkdirSync(RBAC_DIR, { recursive: true });
for (const { file, problem } of drift) if (problem === "stale") rmSync(join(RBAC_DIR, file));
for (const [file, content] of expected) writeFileSync(join(RBAC_DIR, file), content);
console.log(
  drift.length === 0
    ? "config/rbac/ is up to date"
    : `regenerated ${drift.map((d) => `${d.file} (${d.problem})`).join(", ")}`,
);
