/** Runs the hermes command as a user would: `node cli/hermes.ts ...` with its own ~/.hermes and the testbed's kubeconfig. */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { requireEnv } from "../../../test-e2e/support/testbed-env.ts";

const HERMES = join(import.meta.dirname, "..", "..", "..", "cli", "hermes.ts");

export interface HermesResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function hermes(
  args: readonly string[],
  home: string,
  env: Record<string, string> = {},
  /** Kills the command after this long. @default 240 s */
  timeoutMs = 240_000,
): Promise<HermesResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERMES, ...args], {
      env: { ...process.env, HERMES_HOME: home, KUBECONFIG: requireEnv("KUBECONFIG"), ...env },
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** hermes that must exit 0; its stdout. */
export async function hermesOk(
  args: readonly string[],
  home: string,
  env: Record<string, string> = {},
): Promise<string> {
  const result = await hermes(args, home, env);
  if (result.code !== 0)
    throw new Error(`hermes ${args.join(" ")} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}
