/**
 * Brings up the testbed tiers that the selected integration test files need, installs Darwin's CRDs, and
 * hands the endpoints to the tests through process.env. A test file declares what it needs in a comment
 * line near its top: `// @testbed control`, `// @testbed cluster`, `// @testbed data`, `// @testbed gitops`
 * (several allowed: any tiers of hack/testbed). Files without one get the control plane. The testbed stays up afterwards for fast re-runs; stop it with
 * `npm run testbed down`. The operator, Chronos processor and materializer `hack/up` started are stopped
 * while the tests run and started again afterwards, so the platform is left as the tests found it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { loadTestbedEnv } from "./testbed-env.ts";

const REPO = join(import.meta.dirname, "..", "..");
/** The processes hack/up leaves running that write Darwin objects or consume their topics. */
const PLATFORM_WRITERS = ["darwin_operator", "chronos_processor", "materializer"];
const TIER_PRAGMA = /^\s*\/\/\s*@testbed\s+([a-z ,]+)$/m;

/** Positional arguments of `vitest run <filters...>`: the file filters the user gave. */
function cliFilters(): string[] {
  const args = process.argv.slice(2);
  const filters: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg === "run" || arg === "watch" || arg === "related") continue;
    if (arg.startsWith("-")) {
      // options that take a separate value
      if (
        !arg.includes("=") &&
        /^--(project|reporter|outputFile|testTimeout|config|root|dir|t|testNamePattern)$/.test(arg)
      )
        i++;
      continue;
    }
    filters.push(arg);
  }
  return filters;
}

export function tiersFor(files: readonly string[]): string[] {
  const tiers = new Set<string>();
  for (const file of files) {
    const match = TIER_PRAGMA.exec(readFileSync(file, "utf8").slice(0, 4000));
    for (const tier of match?.[1]?.split(/[ ,]+/).filter(Boolean) ?? ["control"]) tiers.add(tier);
  }
  return [...tiers];
}

/** Whether `hack/testbed status` output shows a component ready. */
export function isReady(status: string, component: string): boolean {
  return new RegExp(`^${component}\\s+ready\\b`, "m").test(status);
}

export default async function setup(project: TestProject): Promise<(() => void) | undefined> {
  const { testFiles } = await project.globTestFiles(cliFilters());
  if (testFiles.length === 0) return undefined;
  const tiers = tiersFor(testFiles);
  const testbed = (...args: string[]) =>
    execFileSync(join(REPO, "hack", "testbed"), args, { cwd: REPO, stdio: "inherit" });
  const status = execFileSync(join(REPO, "hack", "testbed"), ["status"], { cwd: REPO, encoding: "utf8" });
  const wereRunning = PLATFORM_WRITERS.filter((c) => isReady(status, c));
  testbed("up", ...tiers);
  // Tests start the operators, webhooks and data-plane consumers they need. The ones hack/up leaves running
  // would act on the tests' objects: its operator would judge them with its own webhooks, the Chronos
  // processor writes the status of every ChronosTransformer, and both consumers would share the tests'
  // Kafka consumer groups. They stop (the operator's webhook configuration goes with it; the apiserver is
  // up by now, which removing the configuration needs). The operator is stopped even when it is not running:
  // one that exited (it does when it loses its lease, as across an apiserver restart) leaves its webhook
  // configuration behind, which would refuse every create of a Darwin kind.
  testbed("stop", ...new Set(["darwin_operator", ...wereRunning]));
  const env = loadTestbedEnv();
  Object.assign(process.env, env);
  if (env.KUBECONFIG && env.DARWIN_KUBECTL) {
    execFileSync(
      env.DARWIN_KUBECTL,
      ["apply", "--server-side", "--force-conflicts", "-f", join(REPO, "crds")],
      {
        cwd: REPO,
        stdio: "inherit",
        env: process.env,
      },
    );
    execFileSync(
      env.DARWIN_KUBECTL,
      ["wait", "--for=condition=Established", "crd", "-l", "app.kubernetes.io/part-of=darwin"],
      {
        stdio: "inherit",
        env: process.env,
      },
    );
  }
  // teardown: the platform hack/up started (operator, webhooks, processor, materializer) runs again
  return () => {
    if (wereRunning.length > 0) testbed("up", ...wereRunning);
  };
}
