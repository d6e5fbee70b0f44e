/** Runs the testbed's kubectl the way a user would, returning what they would see. */
import { spawnSync } from "node:child_process";
import { requireEnv } from "./testbed-env.ts";

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function kubectl(args: readonly string[], input?: string | object): KubectlResult {
  // objects go as JSON: kubectl reads YAML 1.1, where an unquoted yes/no would turn into a boolean
  const stdin = input === undefined ? undefined : typeof input === "string" ? input : JSON.stringify(input);
  const result = spawnSync(requireEnv("DARWIN_KUBECTL"), args, {
    input: stdin,
    encoding: "utf8",
    env: { ...process.env, KUBECONFIG: requireEnv("KUBECONFIG") },
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** kubectl that must succeed; its stdout. */
export function kubectlOk(args: readonly string[], input?: string | object): string {
  const result = kubectl(args, input);
  if (result.code !== 0)
    throw new Error(`kubectl ${args.join(" ")} failed (${result.code}): ${result.stderr}`);
  return result.stdout;
}

/** A namespace of its own for one test file, deleted afterwards without waiting. */
export function createNamespace(prefix: string): string {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
  kubectlOk(["create", "namespace", name]);
  return name;
}

export function deleteNamespace(name: string): void {
  kubectl(["delete", "namespace", name, "--wait=false", "--ignore-not-found"]);
}
