// @testbed cluster
/**
 * A Serve reading online features watches the FeatureGroups it names: while one is missing or not Ready
 * its FeaturesReady condition says which and why (Ready, the rollout, is left alone); creating the group
 * and its becoming Ready clears the condition within seconds, with no change to the Serve.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { sampleObject } from "../../dataplane/testing/samples.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { createObject, eventsAbout, getObject, mergePatch, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { computeFeatureGroupStatus } from "../feature-group/status.ts";
import { createServeController, FEATURE_GROUPS, SERVE_ENVIRONMENTS, SERVES } from "./reconciler.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `serve-features-${RUN}`;
const GROUP = "user-features";
/** A watch event reaches the reconcile in well under a second; seconds leave room for a loaded machine. */
const SECONDS = { timeoutMs: 10_000, intervalMs: 100 };

const tb = useTestbed({ namespace: "serve-features", cleanup: [SERVES, FEATURE_GROUPS] });

/** The Serve as stored, and one of its conditions. */
async function serveCondition(name: string, type = "FeaturesReady") {
  const serve = await getObject(tb.client, SERVES, tb.namespace, name);
  const status = serve?.status as { conditions?: Parameters<typeof findCondition>[0] } | undefined;
  return { serve, condition: findCondition(status?.conditions, type) };
}
const featuresReady = (name: string) => serveCondition(name);

beforeAll(async () => {
  const environment = sampleObject("serveenvironment", "local");
  tb.defer(() => kubectl(["delete", "serveenvironment", ENV, "--ignore-not-found", "--wait=false"]));
  await createObject(tb.client, SERVE_ENVIRONMENTS, {
    ...environment,
    metadata: { name: ENV },
    spec: { ...(environment.spec as object), namespace: tb.namespace },
  });
  await tb.startOperator([createServeController()]);
});

describe("a Serve reading a FeatureGroup", () => {
  it("says which group is missing, and clears it within seconds once the group is Ready", async () => {
    const name = "reads-features";
    // hermes create-serve with features, before any model: the condition does not wait for a rollout.
    await createObject(tb.client, SERVES, {
      apiVersion: SERVES.apiVersion,
      kind: SERVES.kind,
      metadata: { name, namespace: tb.namespace },
      spec: { environment: ENV, type: "api", features: [{ featureGroup: GROUP, version: 1 }] },
    });
    const missing = await waitFor("FeaturesReady=False FeatureGroupNotFound", async () => {
      const { condition } = await featuresReady(name);
      return condition?.reason === "FeatureGroupNotFound" ? condition : undefined;
    });
    expect(missing.status).toBe("False");
    expect(missing.message).toContain(`FeatureGroup ${GROUP} does not exist`);
    const { condition: ready } = await serveCondition(name, "Ready");
    expect(ready?.reason).toBe("WaitingForModel");
    await waitFor("a Warning Event FeatureGroupNotFound", async () =>
      (await eventsAbout(tb.client, tb.namespace, name)).some(
        (e) => e.type === "Warning" && e.reason === "FeatureGroupNotFound",
      ),
    );
    const generation = (await featuresReady(name)).serve?.metadata.generation;

    // The group is created: not Ready until its controller has made its table and topic.
    const group: KubeObject = {
      ...sampleObject("featuregroup", GROUP),
      metadata: { name: GROUP, namespace: tb.namespace },
    };
    await createObject(tb.client, FEATURE_GROUPS, group);
    const notReady = await waitFor(
      "FeaturesReady=False FeatureGroupNotReady",
      async () => {
        const { condition } = await featuresReady(name);
        return condition?.reason === "FeatureGroupNotReady" ? condition : undefined;
      },
      SECONDS,
    );
    expect(notReady.message).toContain(`FeatureGroup ${GROUP} is not Ready`);

    // The group becomes Ready, with the status its controller writes once the stores are made.
    const status = computeFeatureGroupStatus(
      undefined,
      {
        generation: 1,
        keyspace: `fs_${tb.namespace}`,
        table: `fs_${tb.namespace}.user_features_v1`,
        topic: `darwin.features.${tb.namespace}.user-features.v1`,
        schemaHash: "0000",
        version: 1,
        servedVersions: [1],
        store: { ok: true, reason: "TableReady", message: "Table ready." },
        topicStep: { ok: true, reason: "TopicReady", message: "Topic ready." },
      },
      new Date(),
    );
    const readyAt = Date.now();
    await mergePatch(tb.client, FEATURE_GROUPS, tb.namespace, GROUP, { status }, "status");
    const cleared = await waitFor(
      "FeaturesReady=True",
      async () => {
        const { condition } = await featuresReady(name);
        return condition?.status === "True" ? condition : undefined;
      },
      SECONDS,
    );
    process.stdout.write(
      `FeaturesReady turned True ${Date.now() - readyAt} ms after the group became Ready\n`,
    );
    expect(cleared).toMatchObject({ reason: "FeatureGroupsReady" });
    expect((await featuresReady(name)).serve?.metadata.generation).toBe(generation);

    // Deleting the group says so again.
    await tb.client.request({
      method: "DELETE",
      path: `/apis/${FEATURE_GROUPS.apiVersion}/namespaces/${tb.namespace}/${FEATURE_GROUPS.plural}/${GROUP}`,
    });
    await waitFor(
      "FeaturesReady=False again once the group is deleted",
      async () => (await featuresReady(name)).condition?.reason === "FeatureGroupNotFound",
      SECONDS,
    );
  });
});
