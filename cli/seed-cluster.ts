/**
 * The seed's cluster definition (the compute service's JSON, or the SDK's YAML) converted to a
 * DarwinCluster. Pure: `hermes cluster create -f` prints or applies what this returns.
 */
import { z } from "zod";
import { API_VERSION } from "../crds/src/index.ts";
import type { KubeObject } from "../operator/resource.ts";

const capacity = z.enum(["spot", "on-demand"]);
const node = {
  cores: z.number().positive(),
  memory: z.union([z.number().positive(), z.string().min(1)]),
  node_capacity: capacity.optional(),
};

export const SeedCluster = z.strictObject({
  cluster_name: z.string().min(1),
  runtime: z.string().min(1),
  tags: z.array(z.string()).optional(),
  inactive_time: z.number().int().min(0).optional(),
  user: z.string().optional(),
  head_node_config: z.strictObject({ ...node }),
  worker_node_configs: z
    .array(
      z.strictObject({
        ...node,
        min_pods: z.number().int().min(0),
        max_pods: z.number().int().min(1),
        name: z.string().optional(),
      }),
    )
    .optional(),
  jupyter: z.boolean().optional(),
});
export type SeedCluster = z.infer<typeof SeedCluster>;

/** Field errors of a seed cluster file, each as `field: problem`. */
export function seedClusterErrors(input: unknown): string[] {
  const parsed = SeedCluster.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => {
    const field = issue.path.join(".") || "(file)";
    if (issue.code === "unrecognized_keys") {
      return `${field}: unknown field(s) ${issue.keys.join(", ")}; a cluster file has cluster_name, runtime, tags, inactive_time, user, head_node_config, worker_node_configs`;
    }
    return `${field}: ${issue.message}`;
  });
}

export function seedClusterToDarwinCluster(seed: SeedCluster, namespace: string): KubeObject {
  const workers = seed.worker_node_configs ?? [];
  return {
    apiVersion: API_VERSION,
    kind: "DarwinCluster",
    metadata: { name: seed.cluster_name, namespace },
    spec: {
      runtime: seed.runtime,
      ...(seed.user !== undefined && { owner: seed.user }),
      ...(seed.tags !== undefined && { tags: seed.tags }),
      ...(seed.inactive_time !== undefined && { inactiveTimeMinutes: seed.inactive_time }),
      head: {
        cores: seed.head_node_config.cores,
        memory: seed.head_node_config.memory,
        ...(seed.head_node_config.node_capacity && { capacity: seed.head_node_config.node_capacity }),
      },
      workerGroups: workers.map((w, i) => ({
        name: w.name ?? (i === 0 ? "default" : `group-${i + 1}`),
        cores: w.cores,
        memory: w.memory,
        minPods: w.min_pods,
        maxPods: w.max_pods,
        ...(w.node_capacity && { capacity: w.node_capacity }),
      })),
      ...(seed.jupyter !== undefined && { jupyter: { enabled: seed.jupyter } }),
    },
  };
}
