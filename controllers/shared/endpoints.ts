/**
 * Where the operator reaches a cluster's Ray dashboard and Jupyter server, from the operator
 * configuration's `clusterEndpoints` section: URL templates with `{namespace}`, `{rayCluster}` and
 * `{jupyter}` placeholders. The defaults are the in-cluster Service addresses; a template without
 * placeholders sends every cluster to one address (a Ray head outside Kubernetes). `via: apiserver` sends
 * the requests to in-cluster Service addresses through the apiserver's service proxy, for an operator that
 * runs outside the cluster's network (cluster-http.ts).
 */
import { z } from "zod";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { PolicyRule } from "../../operator/rbac.ts";
import { apiserverProxyHttp, type ClusterHttp, directHttp } from "./cluster-http.ts";

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
    via: z
      .enum(["network", "apiserver"])
      .default("network")
      .describe(
        "How Service URLs (<service>.<namespace>.svc) are reached: network sends to them directly (an operator in the cluster); apiserver goes through the apiserver's service proxy with the operator's credentials (an operator outside the cluster's network).",
      ),
  })
  .default({ rayDashboard: DEFAULT_RAY_DASHBOARD, jupyter: DEFAULT_JUPYTER, via: "network" })
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

/** How the operator sends HTTP to clusters' servers under this configuration. */
export function clusterHttpOf(endpoints: ClusterEndpoints, client: KubeClient): ClusterHttp {
  return endpoints.via === "apiserver" ? apiserverProxyHttp(client) : directHttp;
}

/** What reaching clusters' servers this way needs beyond reading them: the service proxy, through the apiserver. */
export function clusterHttpRules(endpoints: ClusterEndpoints): PolicyRule[] {
  return endpoints.via === "apiserver"
    ? [{ apiGroups: [""], resources: ["services/proxy"], verbs: ["get", "create"] }]
    : [];
}
