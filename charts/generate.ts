/**
 * Writes the generated files of charts/darwin (npm run gen:chart): CRDs, RBAC, the webhook configuration,
 * values.schema.json, the default objects and Argo CD's health checks. With --check it writes nothing and
 * exits 1 when a committed file differs from what the sources generate.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CHART_DIR, chartFiles, findChartDrift } from "./src/files.ts";

const expected = chartFiles();
const drift = findChartDrift(expected);
if (process.argv.includes("--check")) {
  for (const { file, problem } of drift)
    console.error(`charts/darwin/${file}: ${problem}; run npm run gen:chart`);
  process.exit(drift.length === 0 ? 0 : 1);
}
for (const { file, problem } of drift) if (problem === "stale") rmSync(join(CHART_DIR, file));
for (const [file, content] of expected) {
  mkdirSync(dirname(join(CHART_DIR, file)), { recursive: true });
  writeFileSync(join(CHART_DIR, file), content);
}
console.log(
  drift.length === 0
    ? "charts/darwin is up to date"
    : `regenerated ${drift.map((d) => `${d.file} (${d.problem})`).join(", ")}`,
);
