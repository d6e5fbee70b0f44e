/**
 * The operator configuration's `artifactBuilds` section: the BuildKit image, how many builds run at once
 * (cluster-wide and per namespace), registries reached over plain HTTP, where build pods run, what they
 * request and how long
 * finished builds are kept.
 */
import { z } from "zod";
import { cpuQuantity, memoryQuantity } from "../shared/quantity.ts";

export const artifactBuildsConfig = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .default("moby/buildkit:v0.34.2-rootless")
      .describe("Rootless BuildKit image running each build (buildctl-daemonless.sh, git, sh)."),
    maxConcurrent: z
      .number()
      .int()
      .min(1)
      .default(4)
      .describe("Builds running at once in the whole cluster; the others wait as Queued."),
    maxConcurrentPerNamespace: z
      .number()
      .int()
      .min(1)
      .default(2)
      .describe("Builds running at once in one namespace; a namespace at its limit does not hold up others."),
    insecureRegistries: z
      .array(z.string().regex(/^[^\s/]+$/, "a registry host[:port], e.g. 127.0.0.1:25500"))
      .default([])
      .describe("Registries (host[:port]) BuildKit pulls from and pushes to over plain HTTP."),
    nodeSelector: z
      .record(z.string(), z.string())
      .default({})
      .describe("Node labels a build pod must match (e.g. a build node pool)."),
    resources: z
      .strictObject({
        cpu: cpuQuantity().optional(),
        memory: memoryQuantity().optional(),
      })
      .default({ cpu: "500m", memory: "1Gi" })
      .describe(
        "Requests of each build pod (what the scheduler reserves for it); {} leaves them unset, and builds then take whatever the node has left.",
      ),
    finishedRetentionSeconds: z
      .number()
      .int()
      .min(0)
      .default(7 * 86400)
      .describe(
        "Delete an ArtifactBuild this long after it finished, unless it is one of the last keepPerServe of its Serve.",
      ),
    keepPerServe: z
      .number()
      .int()
      .min(0)
      .default(5)
      .describe(
        "Finished builds kept regardless of age per Serve (builds labelled darwin.dreamhorizon.org/serve, as hermes build --deploy makes them).",
      ),
  })
  .prefault({})
  .describe("ArtifactBuild: BuildKit image, concurrency, insecure registries, placement, history.");

export type ArtifactBuildsConfig = z.infer<typeof artifactBuildsConfig>;

export const DEFAULT_ARTIFACT_BUILDS: ArtifactBuildsConfig = artifactBuildsConfig.parse(undefined);
