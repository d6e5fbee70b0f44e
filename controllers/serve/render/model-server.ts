/**
 * The children of an api Serve: a Deployment running the model server, a ClusterIP Service, a
 * HorizontalPodAutoscaler (autoscaling/v2) that owns the Deployment's replicas, and an Ingress on the
 * environment's domain serving /<serve>/predict. Pure.
 */

import type { V1Deployment, V1Ingress, V1Service, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { memoryQuantity } from "../../../api/validation/index.ts";
import { darwinKey } from "../../shared/labels.ts";
import { placement } from "../../shared/placement.ts";
import type { Rendered } from "../../shared/rendered.ts";
import { DEPLOYMENTS, HORIZONTAL_POD_AUTOSCALERS, INGRESSES, SERVICES } from "../../shared/resource-types.ts";
import { PREDICT_SERVER_SOURCE } from "../server/sources.ts";
import {
  childMetadata,
  type RenderContext,
  SERVER_PORT,
  type ServeInput,
  selectorLabels,
  serveHost,
  serveLabels,
  serverEnv,
} from "./inputs.ts";

/** The pod template's revision label: the Deployment's pods of one revision, and a rollback's way back. */
export const REVISION_LABEL = darwinKey("revision");

export function renderDeployment(ctx: RenderContext): Rendered<V1Deployment> {
  const { serve, revision } = ctx;
  const amounts = { cpu: String(revision.cores), memory: memoryQuantity(revision.memory) };
  return {
    apiVersion: DEPLOYMENTS.apiVersion,
    kind: DEPLOYMENTS.kind,
    metadata: childMetadata(serve),
    spec: {
      // No replicas: the HorizontalPodAutoscaler owns them (an apply carrying replicas would fight it).
      selector: { matchLabels: selectorLabels(serve) },
      // The previous revision keeps every replica until the new one is available; a rollout that is not
      // available in time is reported as ProgressDeadlineExceeded and leaves the old pods serving.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: ctx.rolloutDeadlineSeconds,
      revisionHistoryLimit: 5,
      template: {
        metadata: {
          labels: {
            ...serveLabels(serve),
            ...selectorLabels(serve),
            [REVISION_LABEL]: String(revision.number),
          },
        },
        spec: {
          containers: [
            {
              name: "model-server",
              image: revision.image,
              ...(ctx.defaultServer && { command: ["python", "-c", PREDICT_SERVER_SOURCE] }),
              ports: [{ name: "http", containerPort: SERVER_PORT, protocol: "TCP" }],
              env: serverEnv(ctx),
              resources: { requests: amounts, limits: { ...amounts } },
              readinessProbe: {
                httpGet: { path: "/health", port: "http" },
                periodSeconds: 5,
                failureThreshold: 3,
              },
            },
          ],
          ...placement(revision.capacity),
        },
      },
    },
  };
}

export function renderService(serve: ServeInput): Rendered<V1Service> {
  return {
    apiVersion: SERVICES.apiVersion,
    kind: SERVICES.kind,
    metadata: childMetadata(serve),
    spec: {
      type: "ClusterIP",
      selector: selectorLabels(serve),
      ports: [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }],
    },
  };
}

export function renderAutoscaler(serve: ServeInput): Rendered<V2HorizontalPodAutoscaler> {
  const { replicas } = serve.spec;
  return {
    apiVersion: HORIZONTAL_POD_AUTOSCALERS.apiVersion,
    kind: HORIZONTAL_POD_AUTOSCALERS.kind,
    metadata: childMetadata(serve),
    spec: {
      scaleTargetRef: {
        apiVersion: DEPLOYMENTS.apiVersion,
        kind: DEPLOYMENTS.kind,
        name: serve.metadata.name,
      },
      minReplicas: replicas.min,
      maxReplicas: replicas.max,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: replicas.targetCPUUtilizationPercent },
          },
        },
      ],
    },
  };
}

/**
 * The Ingress on the environment's domain: `<serve><domainSuffix>` and, as the seed's quick start calls it,
 * any host; both route /<serve>/... to the Service (the predict server strips the prefix).
 */
export function renderIngress(
  serve: ServeInput,
  environment: RenderContext["environment"],
): Rendered<V1Ingress> {
  const name = serve.metadata.name;
  const paths = [
    { path: `/${name}`, pathType: "Prefix", backend: { service: { name, port: { name: "http" } } } },
  ];
  return {
    apiVersion: INGRESSES.apiVersion,
    kind: INGRESSES.kind,
    metadata: childMetadata(serve),
    spec: {
      ...(environment.spec.ingressClassName && { ingressClassName: environment.spec.ingressClassName }),
      rules: [{ host: serveHost(serve, environment), http: { paths } }, { http: { paths } }],
    },
  };
}
