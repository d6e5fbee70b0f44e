/**
 * The Jupyter server of a DarwinCluster: a Deployment (one replica; none while the cluster is suspended)
 * and a ClusterIP Service, on on-demand capacity so a notebook is not reclaimed with a spot node. The
 * notebook reaches Ray through the Ray client port of the head Service. Pure.
 */
import type { V1Deployment, V1Secret, V1Service } from "@kubernetes/client-node";
import type { DarwinRuntimeSpec } from "../../../api/validation/index.ts";
import { dns1035Name } from "../../shared/names.ts";
import type { Rendered } from "../../shared/rendered.ts";
import { DEPLOYMENTS, SECRETS, SERVICES } from "../../shared/resource-types.ts";
import {
  type ClusterInput,
  clusterAnnotations,
  clusterLabels,
  HEAD_PORTS,
  headServiceName,
  packageEnv,
  placement,
  podLabels,
} from "./ray-cluster.ts";

export const JUPYTER_PORT = 8888;

/** Name of the Jupyter Deployment and Service (a Service name is an RFC 1035 label: at most 63). */
export const jupyterName = (clusterName: string): string => dns1035Name(clusterName, 63, "-jupyter");

/** Labels that select the Jupyter pod: the cluster's and the component's. */
function selector(cluster: ClusterInput): Record<string, string> {
  return {
    "app.kubernetes.io/name": "jupyter",
    "app.kubernetes.io/instance": jupyterName(cluster.metadata.name),
  };
}

/** Requests and limits of the Jupyter container; the notebook's heavy work runs on the Ray cluster. */
const JUPYTER_RESOURCES = { cpu: "500m", memory: "1Gi" };

export function renderJupyterDeployment(
  cluster: ClusterInput,
  runtime: DarwinRuntimeSpec,
): Rendered<V1Deployment> {
  const name = jupyterName(cluster.metadata.name);
  const labels = { ...clusterLabels(cluster), ...selector(cluster) };
  const annotations = clusterAnnotations(cluster);
  const rayAddress = `ray://${headServiceName(cluster.metadata.name)}:${HEAD_PORTS.client}`;
  return {
    apiVersion: DEPLOYMENTS.apiVersion,
    kind: DEPLOYMENTS.kind,
    metadata: {
      name,
      ...(cluster.metadata.namespace !== undefined && { namespace: cluster.metadata.namespace }),
      labels,
      ...(Object.keys(annotations).length > 0 && { annotations }),
    },
    spec: {
      // Suspending the cluster stops the notebook too; its spec stays for the next start.
      replicas: cluster.spec.suspend ? 0 : 1,
      selector: { matchLabels: selector(cluster) },
      template: {
        metadata: { labels: { ...podLabels(cluster), ...selector(cluster) } },
        spec: {
          containers: [
            {
              name: "jupyter",
              image: runtime.jupyterImage ?? runtime.image,
              command: ["jupyter", "lab"],
              args: ["--ip=0.0.0.0", `--port=${JUPYTER_PORT}`, "--no-browser"],
              ports: [{ name: "http", containerPort: JUPYTER_PORT, protocol: "TCP" }],
              env: [
                { name: "RAY_ADDRESS", value: rayAddress },
                // Jupyter's login token, shared with the operator's activity probe (renderJupyterSecret).
                {
                  name: "JUPYTER_TOKEN",
                  valueFrom: {
                    secretKeyRef: { name: jupyterName(cluster.metadata.name), key: JUPYTER_TOKEN_KEY },
                  },
                },
                ...packageEnv(cluster.spec),
              ],
              resources: { requests: { ...JUPYTER_RESOURCES }, limits: { ...JUPYTER_RESOURCES } },
            },
          ],
          ...placement("on-demand"),
        },
      },
    },
  };
}

/** Key of the Jupyter Secret that holds the token. */
export const JUPYTER_TOKEN_KEY = "token";

/**
 * The Secret holding the Jupyter server's token (JUPYTER_TOKEN): users log in with it, and the operator's
 * activity probe sends it. The token is made by the caller (once: the Secret is created, never applied).
 */
export function renderJupyterSecret(cluster: ClusterInput, token: string): Rendered<V1Secret> {
  return {
    apiVersion: SECRETS.apiVersion,
    kind: SECRETS.kind,
    metadata: {
      name: jupyterName(cluster.metadata.name),
      ...(cluster.metadata.namespace !== undefined && { namespace: cluster.metadata.namespace }),
      labels: { ...clusterLabels(cluster), ...selector(cluster) },
    },
    type: "Opaque",
    stringData: { [JUPYTER_TOKEN_KEY]: token },
  };
}

export function renderJupyterService(cluster: ClusterInput): Rendered<V1Service> {
  return {
    apiVersion: SERVICES.apiVersion,
    kind: SERVICES.kind,
    metadata: {
      name: jupyterName(cluster.metadata.name),
      ...(cluster.metadata.namespace !== undefined && { namespace: cluster.metadata.namespace }),
      labels: { ...clusterLabels(cluster), ...selector(cluster) },
    },
    spec: {
      type: "ClusterIP",
      selector: selector(cluster),
      ports: [{ name: "http", port: JUPYTER_PORT, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** Where the notebook is served, inside the cluster. */
export const jupyterURL = (cluster: ClusterInput): string =>
  `http://${jupyterName(cluster.metadata.name)}.${cluster.metadata.namespace ?? "default"}.svc:${JUPYTER_PORT}`;

/** The token in a Jupyter Secret as the API returns it (base64 data), if any. */
export function jupyterToken(secret: { [key: string]: unknown } | undefined): string | undefined {
  const data = secret?.data as Record<string, unknown> | undefined;
  const encoded = data?.[JUPYTER_TOKEN_KEY];
  return typeof encoded === "string" && encoded !== ""
    ? Buffer.from(encoded, "base64").toString("utf8")
    : undefined;
}
