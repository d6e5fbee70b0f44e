/**
 * A test-only controller that exercises the runtime end to end: for each ChronosTransformer it applies a
 * ConfigMap `<name>-mirror` holding the spec, writes Ready=True with observedGeneration, and on deletion
 * "cleans up outside Kubernetes" by writing a ConfigMap `<name>-cleanup-record` that nothing owns.
 * Annotations steer it into the paths the tests need:
 *   test.darwin.dreamhorizon.org/fail: "<message>"          every reconcile throws (retried with backoff)
 *   test.darwin.dreamhorizon.org/terminal: "<message>"      reconcile throws a TerminalError (not retried)
 *   test.darwin.dreamhorizon.org/cleanup-fail: "<message>"  finalize throws (the finalizer stays)
 * It is not a Darwin controller; the chronos controller proper lives in controllers/.
 */
import { ChronosTransformer } from "../../crds/src/index.ts";
import { isConflict } from "../api-error.ts";
import { findCondition, setCondition } from "../conditions.ts";
import { type ControllerDefinition, type ReconcileContext, TerminalError } from "../controller.ts";
import type { KubeClient } from "../kube-client.ts";
import { type KubeObject, resourcePath } from "../resource.ts";
import { CHRONOS, CONFIG_MAPS, getObject, waitFor } from "./testbed.ts";

export const FAIL = "test.darwin.dreamhorizon.org/fail";
export const TERMINAL = "test.darwin.dreamhorizon.org/terminal";
export const CLEANUP_FAIL = "test.darwin.dreamhorizon.org/cleanup-fail";

export interface MirrorOptions {
  /** Runs at the start of each reconcile (tests inject concurrent writers or record timings here). */
  onReconcile?: (ctx: ReconcileContext) => Promise<void> | void;
  /** Whether to clean up through a finalizer (default true). */
  finalize?: boolean;
}

export function createMirrorController(options: MirrorOptions = {}): ControllerDefinition {
  return {
    name: "mirror",
    for: CHRONOS,
    owns: [CONFIG_MAPS],
    async reconcile(ctx) {
      await options.onReconcile?.(ctx);
      const object = ctx.object;
      const annotations = object.metadata.annotations ?? {};
      const failure = annotations[FAIL];
      if (failure !== undefined) throw new Error(`injected failure: ${failure}`);
      const terminal = annotations[TERMINAL];
      if (terminal !== undefined) throw new TerminalError("InvalidRule", terminal);
      const spec = ChronosTransformer.spec.safeParse(object.spec);
      if (!spec.success) throw new TerminalError("InvalidSpec", spec.error.message);

      const name = `${object.metadata.name}-mirror`;
      await ctx.apply(CONFIG_MAPS, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name, labels: { "app.kubernetes.io/managed-by": "darwin-operator" } },
        data: { source: spec.data.source, match: spec.data.match, transform: spec.data.transform },
      });

      const status = ChronosTransformer.status.parse(object.status ?? {});
      const generation = object.metadata.generation;
      await ctx.updateStatus({
        ...status,
        observedGeneration: generation,
        conditions: setCondition(
          status.conditions,
          { type: "Ready", status: "True", reason: "Mirrored", message: `ConfigMap ${name} holds the rule.` },
          { now: ctx.now(), observedGeneration: generation },
        ),
      });
      return undefined;
    },
    ...(options.finalize === false
      ? {}
      : {
          async finalize(ctx: ReconcileContext) {
            const failure = ctx.object.metadata.annotations?.[CLEANUP_FAIL];
            if (failure !== undefined) throw new Error(`external store refused: ${failure}`);
            const namespace = ctx.object.metadata.namespace;
            try {
              await ctx.client.request({
                method: "POST",
                path: resourcePath(CONFIG_MAPS, namespace),
                body: {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: { name: `${ctx.object.metadata.name}-cleanup-record`, namespace },
                  data: { uid: ctx.object.metadata.uid ?? "", cleanedAt: ctx.now().toISOString() },
                },
              });
            } catch (err) {
              if (!isConflict(err)) throw err; // already recorded by an earlier attempt
            }
          },
        }),
  };
}

/** Whether the mirror controller has reconciled the object's current generation successfully. */
export function isMirrored(object: {
  metadata: { generation?: number | undefined };
  status?: unknown;
}): boolean {
  const status = ChronosTransformer.status.safeParse(object.status ?? {});
  if (!status.success) return false;
  const ready = findCondition(status.data.conditions, "Ready");
  return (
    status.data.observedGeneration === object.metadata.generation &&
    ready?.status === "True" &&
    ready.observedGeneration === object.metadata.generation
  );
}

/** Waits until the mirror controller has reconciled the object's current generation; returns the object. */
export async function waitMirrored(
  client: KubeClient,
  namespace: string,
  name: string,
  timeoutMs = 30_000,
): Promise<KubeObject> {
  return waitFor(
    `${name} reconciled`,
    async () => {
      const object = await getObject(client, CHRONOS, namespace, name);
      return object && isMirrored(object) ? object : undefined;
    },
    { timeoutMs },
  );
}
