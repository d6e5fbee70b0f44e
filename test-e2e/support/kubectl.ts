/**
 * Runs the testbed's kubectl the way a user would, returning what they would see. Asynchronous on purpose:
 * a test that serves a webhook or an operator from its own process must keep its event loop free while the
 * apiserver calls back into it.
 */
import { spawn } from "node:child_process";
import { requireEnv } from "./testbed-env.ts";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a testbed binary (the env entry naming it, e.g. DARWIN_KUBECTL, DARWIN_HELM) on the testbed's kubeconfig. */
export function runTestbedTool(
  binary: string,
  args: readonly string[],
  input?: string | object,
  timeoutMs = 60_000,
): Promise<KubectlResult> {
  // objects go as JSON: kubectl reads YAML 1.1, where an unquoted yes/no would turn into a boolean
  const stdin = input === undefined ? undefined : typeof input === "string" ? input : JSON.stringify(input);
  return new Promise((resolve, reject) => {
    const child = spawn(requireEnv(binary), args, {
      env: { ...process.env, KUBECONFIG: requireEnv("KUBECONFIG") },
      timeout: timeoutMs,
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

export const kubectl = (args: readonly string[], input?: string | object): Promise<KubectlResult> =>
  runTestbedTool("DARWIN_KUBECTL", args, input);

/** kubectl that must succeed; its stdout. */
export async function kubectlOk(args: readonly string[], input?: string | object): Promise<string> {
  const result = await kubectl(args, input);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}
