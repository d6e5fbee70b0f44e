/**
 * What a process loads at start decides most of its memory: the data-store drivers and
 * @kubernetes/client-node's generated API are each tens of MiB of RSS. The operator (with its controllers
 * built, the catalog index configured) and hermes load none of them until a FeatureGroup, a catalog write or
 * a command needs one.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const REPO = join(import.meta.dirname, "..");
const HEAVY = [
  "@kubernetes/client-node",
  "@platformatic/kafka",
  "cassandra-driver",
  "mysql2",
  "@aws-sdk/client-s3",
  "@duckdb/node-api",
];

/** The npm packages a fresh Node process has resolved after running `script` (an ES module body). */
function packagesLoadedBy(script: string, env: Record<string, string> = {}): string[] {
  const out = execFileSync(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { registerHooks } from "node:module";
const loaded = new Set();
registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    const match = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
    if (match) loaded.add(match[1]);
    return result;
  },
});
${script}
process.stdout.write(JSON.stringify([...loaded]));
process.exit(0);`,
    ],
    { cwd: REPO, env: { ...process.env, ...env }, encoding: "utf8", timeout: 60_000 },
  );
  return JSON.parse(out) as string[];
}

describe("modules loaded at start", () => {
  it("the operator with its controllers built loads no data-store driver and not client-node", () => {
    const loaded = packagesLoadedBy(
      `await import("./operator/run.ts");
await import("./webhooks/component.ts");
const { darwinControllers } = await import("./cmd/controllers.ts");
const { defaultDarwinConfig } = await import("./cmd/config.ts");
darwinControllers(defaultDarwinConfig());`,
      { DARWIN_CATALOG_MYSQL_URL: "mysql://darwin@127.0.0.1:1/catalog" },
    );
    expect(loaded).toContain("fastify");
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  });

  it("the FeatureGroup stores, once imported, bring the three drivers (what the check above would see)", () => {
    const loaded = packagesLoadedBy(`await import("./controllers/feature-group/stores.ts");`);
    expect(loaded).toEqual(expect.arrayContaining(["@platformatic/kafka", "cassandra-driver", "mysql2"]));
  });

  it("hermes loads none of them for a command that does not use them", () => {
    const loaded = packagesLoadedBy(
      `const { runHermes } = await import("./cli/program.ts");
const io = { stdout: { write: () => true }, stderr: { write: () => true, isTTY: false }, env: { HERMES_HOME: "/nonexistent-hermes-home" } };
await runHermes(["--help"], io);`,
    );
    expect(loaded).toContain("commander");
    expect(loaded.filter((name) => HEAVY.includes(name))).toEqual([]);
  });
});

/** The TypeScript files that ship (not tests, test support or benchmarks), relative to the repository. */
function shippedSources(dir = REPO): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const skip =
        ["node_modules", "test-e2e", "bench", "testing"].includes(entry.name) || entry.name.startsWith(".");
      return skip ? [] : shippedSources(path);
    }
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts") ? [relative(REPO, path)] : [];
  });
}

describe("@kubernetes/client-node", () => {
  it("is imported for its types only by shipped code (it is a dev dependency: images do not have it)", () => {
    const valueImports = shippedSources().filter((file) =>
      /^import (?!type )[^;]*from "@kubernetes\/client-node"/m.test(readFileSync(join(REPO, file), "utf8")),
    );
    expect(valueImports).toEqual([]);
  });
});
