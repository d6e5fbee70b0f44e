/** DarwinClusters and runtimes for the unit tests of the render and status functions. */

import { type DarwinRuntimeSpec, runtimeRecords } from "../../api/validation/index.ts";
import { API_VERSION, DarwinCluster, DarwinRuntime } from "../../crds/src/index.ts";
import type { ClusterInput } from "./render/ray-cluster.ts";

export const RUNTIME: DarwinRuntimeSpec = runtimeRecords([
  {
    metadata: { name: "ray2.37.0-py310-cpu" },
    spec: {
      displayName: "Ray2.37.0-Py310-CPU",
      rayVersion: "2.37.0",
      pythonVersion: "3.10",
      image: "rayproject/ray:2.37.0-py310",
    },
  },
])[0]?.spec as DarwinRuntimeSpec;

/** A cluster as the API returns it (schema defaults applied), with `spec` fields overridden. */
export function cluster(
  spec: Record<string, unknown> = {},
  metadata: { name?: string; namespace?: string; generation?: number } = {},
): ClusterInput & { metadata: { generation?: number } } {
  return {
    metadata: { name: "housing-project", namespace: "team-a", generation: 1, ...metadata },
    spec: DarwinCluster.spec.parse({
      runtime: "Ray2.37.0-Py310-CPU",
      owner: "ana@example.com",
      head: { cores: 4, memory: "8Gi" },
      workerGroups: [{ name: "default", cores: 2, memory: 4, minPods: 1, maxPods: 2, capacity: "spot" }],
      ...spec,
    }),
  };
}

/** A DarwinRuntime object for the integration tests (cluster-scoped: give each run its own name). */
export function runtimeObject(name: string, displayName = name, image = "rayproject/ray:2.37.0-py310") {
  return {
    apiVersion: API_VERSION,
    kind: DarwinRuntime.kind,
    metadata: { name },
    spec: { displayName, rayVersion: "2.37.0", pythonVersion: "3.10", image },
  };
}
