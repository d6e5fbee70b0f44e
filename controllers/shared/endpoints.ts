/**
 * Where the operator reaches a cluster's Ray dashboard and Jupyter server, from the operator
 * configuration's `clusterEndpoints` section: URL templates with `{namespace}`, `{rayCluster}` and
 * `{jupyter}` placeholders. The defaults are the in-cluster Service addresses; a template without
 * placeholders sends every cluster to one address (a Ray head outside Kubernetes, as on the testbed, whose
 * KWOK pods run no Ray).
 */
import { z } from "zod";

const template = (what: string, example: string) =>
  z
    .string()
    .regex(/^https?:\/\/\S+$/, `must be an http(s) URL template, e.g. ${example}`)
    .describe(`URL of ${what}; {namespace}, {rayCluster} and {jupyter} are replaced by the cluster's.`);

export const DEFAULT_RAY_DASHBOARD = "http://{rayCluster}-head-svc.{namespace}.svc:8265";
export const DEFAULT_JUPYTER = "http://{jupyter}.{namespace}.svc:8888";

export const clusterEndpoints = z
  .strictObject({
    rayDashboard: template("a cluster's Ray dashboard", DEFAULT_RAY_DASHBOARD).default(DEFAULT_RAY_DASHBOARD),
    jupyter: template("a cluster's Jupyter server", DEFAULT_JUPYTER).default(DEFAULT_JUPYTER),
  })
  .default({ rayDashboard: DEFAULT_RAY_DASHBOARD, jupyter: DEFAULT_JUPYTER })
  .describe("Where the operator reaches each cluster's Ray dashboard and Jupyter server.");

export type ClusterEndpoints = z.infer<typeof clusterEndpoints>;

export const DEFAULT_ENDPOINTS: ClusterEndpoints = clusterEndpoints.parse(undefined);

/** The Ray dashboard and Jupyter URLs of one DarwinCluster, from its child names. Pure. */
export function endpointsOf(
  endpoints: ClusterEndpoints,
  names: { namespace: string; rayCluster: string; jupyter: string },
): { rayDashboard: string; jupyter: string } {
  const fill = (t: string) =>
    t
      .replaceAll("{namespace}", names.namespace)
      .replaceAll("{rayCluster}", names.rayCluster)
      .replaceAll("{jupyter}", names.jupyter);
  return { rayDashboard: fill(endpoints.rayDashboard), jupyter: fill(endpoints.jupyter) };
}
