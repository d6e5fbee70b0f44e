/**
 * Waiting for a resource to settle, with live progress: a spinner on a terminal (ora), one line per
 * change otherwise. Ends Ready (exit 0), failed (exit 1) or timed out (exit 3).
 */
import ora from "ora";
import type { KubeClient } from "../operator/kube-client.ts";
import type { KubeObject } from "../operator/resource.ts";
import { getResource, type Kind } from "./kube.ts";

export const EXIT = { ok: 0, failed: 1, usage: 2, timeout: 3, error: 4 } as const;

export interface Verdict {
  state: "done" | "failed" | "waiting";
  /** One line for the user: phase and the condition's message. */
  text: string;
}

export interface WaitOptions {
  client: KubeClient;
  kind: Kind;
  namespace: string | undefined;
  name: string;
  timeoutSeconds: number;
  /** How the object stands now. */
  judge(object: KubeObject | undefined): Verdict;
  stream?: NodeJS.WriteStream;
  intervalMs?: number;
}

export async function waitFor(
  options: WaitOptions,
): Promise<{ code: number; object: KubeObject | undefined }> {
  const stream = options.stream ?? process.stderr;
  const spinner = ora({ text: `waiting for ${options.name}`, stream, isEnabled: stream.isTTY === true });
  spinner.start();
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  let last = "";
  for (;;) {
    const object = await getResource(options.client, options.kind, options.namespace, options.name);
    const verdict = options.judge(object);
    if (verdict.text !== last) {
      if (spinner.isEnabled) spinner.text = verdict.text;
      else if (verdict.state === "waiting") stream.write(`… ${verdict.text}\n`);
      last = verdict.text;
    }
    if (verdict.state === "done") {
      spinner.isEnabled ? spinner.succeed(verdict.text) : stream.write(`✔ ${verdict.text}\n`);
      return { code: EXIT.ok, object };
    }
    if (verdict.state === "failed") {
      spinner.isEnabled ? spinner.fail(verdict.text) : stream.write(`✖ ${verdict.text}\n`);
      return { code: EXIT.failed, object };
    }
    if (Date.now() > deadline) {
      const text = `timed out after ${options.timeoutSeconds}s: ${verdict.text}`;
      spinner.isEnabled ? spinner.fail(text) : stream.write(`✖ ${text}\n`);
      return { code: EXIT.timeout, object };
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 1000));
  }
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  observedGeneration?: number;
}

export function conditionOf(object: KubeObject | undefined, type: string): Condition | undefined {
  const status = object?.status as { conditions?: Condition[] } | undefined;
  return status?.conditions?.find((c) => c.type === type);
}

/** True once the controller has seen the object's current generation. */
export function observed(object: KubeObject | undefined): boolean {
  const status = object?.status as { observedGeneration?: number } | undefined;
  return (status?.observedGeneration ?? -1) >= (object?.metadata.generation ?? 0);
}

/** Reasons a Serve does not get past without a change from the user. */
const SERVE_FAILURES = new Set([
  "InvalidSpec",
  "EnvironmentNotFound",
  "ModelNotFound",
  "ModelVersionNotReady",
  "InvalidModelURI",
  "BuildFailed",
  "RolloutFailed",
]);

export function judgeServe(object: KubeObject | undefined): Verdict {
  if (!object) return { state: "failed", text: "the Serve is gone" };
  const name = object.metadata.name;
  const status = (object.status ?? {}) as {
    phase?: string;
    revision?: number;
    url?: string;
    resolvedModel?: { name?: string; version?: string };
  };
  if (!observed(object)) return { state: "waiting", text: `${name}: waiting for the operator` };
  const ready = conditionOf(object, "Ready");
  const model = conditionOf(object, "ModelResolved");
  if (model?.status === "False" && SERVE_FAILURES.has(model.reason ?? "")) {
    return { state: "failed", text: `${name}: ${model.reason}: ${model.message}` };
  }
  if (ready?.status === "True") {
    const version = status.resolvedModel?.version
      ? ` model ${status.resolvedModel.name} version ${status.resolvedModel.version},`
      : "";
    return {
      state: "done",
      text: `${name} is Ready:${version} revision ${status.revision ?? "?"}${status.url ? `, at ${status.url}` : ""}`,
    };
  }
  if (ready && SERVE_FAILURES.has(ready.reason ?? "")) {
    return { state: "failed", text: `${name}: ${ready.reason}: ${ready.message}` };
  }
  return {
    state: "waiting",
    text: `${name}: ${status.phase ?? "Pending"}: ${ready?.message ?? "waiting for the operator"}`,
  };
}

export function judgeCluster(want: "Ready" | "Suspended") {
  return (object: KubeObject | undefined): Verdict => {
    if (!object) return { state: "failed", text: "the cluster is gone" };
    const name = object.metadata.name;
    const phase = (object.status as { phase?: string } | undefined)?.phase ?? "Pending";
    const ready = conditionOf(object, "Ready");
    if (!observed(object)) return { state: "waiting", text: `${name}: waiting for the operator` };
    if (want === "Ready" && ready?.status === "True") return { state: "done", text: `${name} is Ready` };
    if (want === "Suspended" && phase === "Suspended") return { state: "done", text: `${name} is stopped` };
    if (phase === "Failed" || ready?.reason === "RuntimeNotFound" || ready?.reason === "InvalidSpec") {
      return { state: "failed", text: `${name}: ${ready?.reason}: ${ready?.message}` };
    }
    return { state: "waiting", text: `${name}: ${phase}: ${ready?.message ?? ""}` };
  };
}
