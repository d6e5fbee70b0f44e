import { describe, expect, it } from "vitest";
import { CatalogAsset } from "../../../crds/src/index.ts";
import type { KubeObject } from "../../../operator/resource.ts";
import { darwinClusterAssets, featureGroupAssets, REGISTERED_FROM, serveAssets } from "./platform-assets.ts";

const object = (kind: string, spec: Record<string, unknown>, status: Record<string, unknown> = {}) =>
  ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind,
    metadata: { namespace: "team-a", name: "n1", uid: "u1" },
    spec,
    status,
  }) as KubeObject;

const groupSpec = {
  version: 2,
  description: "User activity features",
  tags: ["users"],
  entities: [{ name: "user_id", type: "int64", description: "The user" }],
  features: [{ name: "activity_score", type: "float64" }],
};

describe("featureGroupAssets", () => {
  it("registers the online table with the group's columns, and the topic as a stream", () => {
    const assets = featureGroupAssets(
      object("FeatureGroup", groupSpec, {
        table: "ks.n1_v2",
        topic: "darwin.team-a.n1.v2",
        servedVersion: 2,
      }),
    );
    expect(assets.map((a) => [a.metadata.name, a.metadata.labels?.[REGISTERED_FROM]])).toEqual([
      ["featuregroup-n1", "FeatureGroup"],
      ["featuregroup-n1-topic", "FeatureGroup"],
    ]);
    expect(assets[0]?.spec).toMatchObject({
      type: "feature-group",
      location: "cassandra://ks.n1_v2",
      owner: "platform@darwin.local",
      tags: ["users", "feature-group"],
      schema: [
        { name: "user_id", type: "int64", nullable: false, description: "The user" },
        { name: "activity_score", type: "float64", nullable: true },
      ],
    });
    expect(assets[1]?.spec).toMatchObject({ type: "stream", location: "kafka://darwin.team-a.n1.v2" });
    // What the operator applies is a valid CatalogAsset.
    for (const asset of assets) expect(CatalogAsset.spec.safeParse(asset.spec).success).toBe(true);
  });

  it("waits for the table before registering, and skips an invalid group", () => {
    expect(featureGroupAssets(object("FeatureGroup", groupSpec))).toEqual([]);
    expect(featureGroupAssets(object("FeatureGroup", { version: 0 }, { table: "ks.t" }))).toEqual([]);
  });
});

describe("serveAssets and darwinClusterAssets", () => {
  it("registers a serve as a model deployment naming the model MLflow resolved", () => {
    const [asset] = serveAssets(
      object(
        "Serve",
        { environment: "local", model: { uri: "models:/iris@champion" } },
        { url: "http://n1.local/predict", resolvedModel: { name: "iris", version: "3" } },
      ),
      { defaultOwner: "ml@example.com" },
    );
    expect(asset?.spec).toMatchObject({
      type: "model-deployment",
      location: "http://n1.local/predict",
      owner: "ml@example.com",
      tags: ["serve", "local", "iris"],
      description: expect.stringContaining("serving model iris version 3"),
    });
    expect(CatalogAsset.spec.safeParse(asset?.spec).success).toBe(true);
  });

  it("registers a cluster as a compute cluster of its owner, at its object until it has a dashboard", () => {
    const spec = {
      runtime: "Ray2.37.0-Py310-CPU",
      owner: "ana@example.com",
      head: { cores: 1, memory: "2Gi" },
      workerGroups: [{ name: "w", cores: 2, memory: 4, minPods: 1, maxPods: 2 }],
    };
    const [asset] = darwinClusterAssets(object("DarwinCluster", spec));
    expect(asset?.spec).toMatchObject({
      type: "compute-cluster",
      location: "k8s://team-a/darwinclusters/n1",
      owner: "ana@example.com",
    });
    expect(CatalogAsset.spec.safeParse(asset?.spec).success).toBe(true);
  });
});
