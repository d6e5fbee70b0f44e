import { describe, expect, it } from "vitest";
import { DarwinCluster } from "../crds/src/index.ts";
import { SeedCluster, seedClusterErrors, seedClusterToDarwinCluster } from "./seed-cluster.ts";

/** The seed's "Creating Your First Project" request body, verbatim. */
const HOUSING = {
  cluster_name: "housing-project",
  tags: ["tutorial", "housing-prices"],
  runtime: "Ray2.37.0-Py310-CPU",
  inactive_time: 60,
  head_node_config: { cores: 4, memory: 8 },
  worker_node_configs: [{ cores: 2, memory: 4, min_pods: 1, max_pods: 2 }],
  user: "user@example.com",
};

describe("seed cluster file", () => {
  it("becomes a DarwinCluster the API accepts", () => {
    const cluster = seedClusterToDarwinCluster(SeedCluster.parse(HOUSING), "team-a");
    expect(cluster).toEqual({
      apiVersion: "darwin.dreamhorizon.org/v1alpha1",
      kind: "DarwinCluster",
      metadata: { name: "housing-project", namespace: "team-a" },
      spec: {
        runtime: "Ray2.37.0-Py310-CPU",
        owner: "user@example.com",
        tags: ["tutorial", "housing-prices"],
        inactiveTimeMinutes: 60,
        head: { cores: 4, memory: 8 },
        workerGroups: [{ name: "default", cores: 2, memory: 4, minPods: 1, maxPods: 2 }],
      },
    });
    expect(DarwinCluster.spec.safeParse(cluster.spec).success).toBe(true);
  });

  it.each([
    [{ ...HOUSING, cluster_name: undefined }, "cluster_name"],
    [{ ...HOUSING, head_node_config: { cores: "four", memory: 8 } }, "head_node_config.cores"],
    [
      { ...HOUSING, worker_node_configs: [{ cores: 2, memory: 4, min_pods: 1 }] },
      "worker_node_configs.0.max_pods",
    ],
    [{ ...HOUSING, inactive_time: -1 }, "inactive_time"],
    [{ ...HOUSING, head_node_cfg: {} }, "unknown field(s) head_node_cfg"],
  ])("names the field of a mistake (%#)", (input, field) => {
    expect(seedClusterErrors(input).join("\n")).toContain(field);
  });
});
