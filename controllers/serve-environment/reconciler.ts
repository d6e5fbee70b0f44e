/**
 * The ServeEnvironment controller: reports which Serves use the environment. The environment's settings
 * (domain, namespace, ingress class, default capacity, MLflow, feature server) are read by the Serve
 * controller, which the environment's changes wake.
 */
import { ServeEnvironment } from "../../crds/src/index.ts";
import { type ControllerDefinition, TerminalError } from "../../operator/controller.ts";
import { isPlainObject, type JsonObject } from "../../operator/json.ts";
import { objectKey } from "../../operator/resource.ts";
import { SERVE_ENVIRONMENTS, SERVES } from "../serve/reconciler.ts";
import { computeServeEnvironmentStatus } from "./status.ts";

export function createServeEnvironmentController(): ControllerDefinition {
  return {
    name: "serveenvironment",
    for: SERVE_ENVIRONMENTS,
    // A Serve created, moved or deleted re-counts its environment (its last known state names it).
    watches: [
      {
        type: SERVES,
        map: (serve) =>
          isPlainObject(serve.spec) && typeof serve.spec.environment === "string"
            ? [serve.spec.environment]
            : [],
      },
    ],
    async reconcile(ctx) {
      const spec = ServeEnvironment.spec.safeParse(ctx.object.spec);
      if (!spec.success) throw new TerminalError("InvalidSpec", spec.error.message);
      const name = ctx.object.metadata.name;
      const using = ctx
        .list(SERVES)
        .filter((s) => isPlainObject(s.spec) && s.spec.environment === name && !s.metadata.deletionTimestamp);
      const status = computeServeEnvironmentStatus({
        generation: ctx.object.metadata.generation,
        previous: ServeEnvironment.status.safeParse(ctx.object.status ?? {}).data,
        serves: using.map((s) => objectKey(s.metadata)),
        misplaced: using
          .filter((s) => s.metadata.namespace !== spec.data.namespace)
          .map((s) => objectKey(s.metadata)),
        namespace: spec.data.namespace,
        now: ctx.now(),
      });
      await ctx.updateStatus(status as JsonObject);
      return undefined;
    },
  };
}
