/** Drives hack/testbed from a test (crash and restart of a component) and waits for conditions. */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..", "..");

/** Runs `hack/testbed <args>` from the repository root; its log lines are returned, or thrown on failure. */
export function testbed(...args: string[]): string {
  try {
    return execFileSync(join(REPO, "hack", "testbed"), args, {
      cwd: REPO,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 300_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(
      `hack/testbed ${args.join(" ")} failed: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
  }
}

/** A name no earlier run has used: tests never depend on what a previous run left behind. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}
