/**
 * The direction imports may take between the top-level folders (see the README's layout): the runtime
 * knows nothing of the application, the API's schemas and rules know nothing of who serves them, and only
 * the entry points (cmd/) wire everything together. Tests are exempt (`*.test.ts` and `testing/`
 * folders): a runtime test may use one of Darwin's kinds as its subject.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";

/** For each restricted folder, the other folders its code may import from. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  operator: [],
  crds: [],
  api: ["crds"],
  webhooks: ["crds", "api", "operator"],
  controllers: ["crds", "api", "operator"],
  // hermes writes and reads resources through the API's schemas and the kube client; it also runs the
  // populator itself (`features load` is a Job's command too) and shares names with the controllers and the
  // feature server's wire types. Never the entry points or the webhooks.
  cli: ["crds", "api", "operator", "dataplane", "controllers"],
};

/** The folder only entry points live in: nothing else imports it. */
const ENTRY_POINTS = "cmd";
/** Folders that may import the entry points' wiring: the chart's generator renders the operator's configuration, controllers and RBAC. */
const WIRING: readonly string[] = [ENTRY_POINTS, "charts"];

export interface ImportViolation {
  /** Path relative to the root. */
  file: string;
  line: number;
  specifier: string;
  message: string;
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\b[^"'`;]*?\bfrom\s*["']([^"']+)["']|\bimport\s*\(?\s*["']([^"']+)["']/g;

const isTest = (file: string): boolean => /\.test\.ts$/.test(file) || file.split(sep).includes("testing");

/** TypeScript files under the root's folders, leaving out node_modules and hidden folders. */
function sourceFiles(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((top) => top.isDirectory() && top.name !== "node_modules" && !top.name.startsWith("."))
    .flatMap((top) => readdirSync(join(root, top.name), { withFileTypes: true, recursive: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

/** Every relative import in `root`'s TypeScript files that goes against the direction. */
export function importViolations(root: string): ImportViolation[] {
  const violations: ImportViolation[] = [];
  for (const path of sourceFiles(root)) {
    const file = relative(root, path);
    if (isTest(file)) continue;
    const layer = file.split(sep)[0] ?? "";
    const allowed = LAYERS[layer];
    const text = readFileSync(path, "utf8");
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1] ?? match[2] ?? "";
      if (!specifier.startsWith(".")) continue;
      const target = relative(root, resolve(dirname(path), specifier)).split(sep)[0] ?? "";
      if (target === layer) continue;
      let message: string | undefined;
      if (target === ENTRY_POINTS && !WIRING.includes(layer)) {
        message = `${layer}/ imports ${ENTRY_POINTS}/: only entry points wire the application together`;
      } else if (allowed && !allowed.includes(target)) {
        message = `${layer}/ may import only ${allowed.map((l) => `${l}/`).join(", ") || "itself"}, not ${target}/`;
      }
      if (message) {
        const start = match.index + match[0].length - match[0].trimStart().length;
        const line = text.slice(0, start).split("\n").length;
        violations.push({ file, line, specifier, message });
      }
    }
  }
  return violations;
}
