/**
 * The CatalogAssets platform objects register themselves with: a FeatureGroup's online table (with the
 * group's entity and feature columns as its schema) and its stream topic, a Serve as a model deployment, a
 * DarwinCluster as a compute cluster. Pure: the object as stored in, the assets out; an asset whose location
 * is not known yet (a group not reconciled) is left out until it is.
 */
import type { z } from "zod";
import { type CatalogAsset, DarwinCluster, FeatureGroup, Serve } from "../../../crds/src/index.ts";
import type { KubeObject } from "../../../operator/resource.ts";
import { darwinKey } from "../../shared/labels.ts";

type AssetSpec = z.input<typeof CatalogAsset.spec>;

/** On every generated asset: the kind it was registered from (its owner reference names the object). */
export const REGISTERED_FROM = darwinKey("registered-from");

export interface PlatformAssetOptions {
  /**
   * Owner of assets whose object names none (a Serve has no owner field; a FeatureGroup's is optional).
   * @default "platform@darwin.local"
   */
  defaultOwner?: string;
}

const DEFAULT_OWNER = "platform@darwin.local";

/** A location for what has no address of its own: the object in the Kubernetes API. */
const objectLocation = (object: KubeObject, plural: string) =>
  `k8s://${object.metadata.namespace ?? "default"}/${plural}/${object.metadata.name}`;

function asset(object: KubeObject, suffix: string, spec: AssetSpec): KubeObject {
  return {
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "CatalogAsset",
    metadata: {
      name: `${object.kind.toLowerCase()}-${object.metadata.name}${suffix}`,
      namespace: object.metadata.namespace,
      labels: { [REGISTERED_FROM]: object.kind },
    },
    spec: spec as KubeObject["spec"],
  };
}

/** A FeatureGroup's table (type feature-group, its columns as schema) and topic (type stream). */
export function featureGroupAssets(object: KubeObject, options: PlatformAssetOptions = {}): KubeObject[] {
  const spec = FeatureGroup.spec.safeParse(object.spec);
  if (!spec.success) return [];
  const status = FeatureGroup.status.safeParse(object.status ?? {}).data ?? {};
  const { version, entities, features, tags, owner, description } = spec.data;
  const schema = [
    ...entities.map((e) => ({
      name: e.name,
      type: e.type,
      nullable: false,
      ...(e.description && { description: e.description }),
    })),
    ...features.map((f) => ({
      name: f.name,
      type: f.type,
      nullable: true,
      ...(f.description && { description: f.description }),
    })),
  ];
  const common = {
    owner: owner ?? options.defaultOwner ?? DEFAULT_OWNER,
    tags: [...new Set([...tags, "feature-group"])].slice(0, 32),
    schema,
  };
  const about = description ?? `Feature group ${object.metadata.name}`;
  const assets: KubeObject[] = [];
  if (status.table)
    assets.push(
      asset(object, "", {
        ...common,
        type: "feature-group",
        location: `cassandra://${status.table}`,
        format: "cassandra",
        description: `${about} (version ${status.servedVersion ?? version}, online table ${status.table}).`,
      }),
    );
  if (status.topic)
    assets.push(
      asset(object, "-topic", {
        ...common,
        type: "stream",
        location: `kafka://${status.topic}`,
        format: "json",
        description: `${about}: the stream feeding version ${status.servedVersion ?? version} (topic ${status.topic}).`,
      }),
    );
  return assets;
}

/** A Serve as a model deployment: where it answers, its environment and the model it serves. */
export function serveAssets(object: KubeObject, options: PlatformAssetOptions = {}): KubeObject[] {
  const spec = Serve.spec.safeParse(object.spec);
  if (!spec.success) return [];
  const status = Serve.status.safeParse(object.status ?? {}).data ?? {};
  const model = status.resolvedModel;
  const serving =
    model?.name !== undefined
      ? `model ${model.name}${model.version ? ` version ${model.version}` : ""}`
      : spec.data.model
        ? `model ${spec.data.model.uri}`
        : "no model yet";
  return [
    asset(object, "", {
      type: "model-deployment",
      location: status.url ?? objectLocation(object, "serves"),
      owner: options.defaultOwner ?? DEFAULT_OWNER,
      description: `${spec.data.description ?? `Serve ${object.metadata.name}`}: ${spec.data.type} deployment in environment ${spec.data.environment} serving ${serving}.`,
      tags: [
        "serve",
        spec.data.environment,
        ...(model?.name ? [model.name.slice(0, 63)] : []),
        ...spec.data.features.map((f) => f.featureGroup),
      ]
        .filter((tag, i, all) => all.indexOf(tag) === i)
        .slice(0, 32),
    }),
  ];
}

/** A DarwinCluster as a compute cluster: its runtime, owner and tags. */
export function darwinClusterAssets(object: KubeObject): KubeObject[] {
  const spec = DarwinCluster.spec.safeParse(object.spec);
  if (!spec.success) return [];
  const status = (object.status ?? {}) as { dashboardURL?: unknown };
  const workers = spec.data.workerGroups
    .map((g) => `${g.minPods}-${g.maxPods} x ${g.cores} cores`)
    .join(", ");
  return [
    asset(object, "", {
      type: "compute-cluster",
      location:
        typeof status.dashboardURL === "string" && status.dashboardURL
          ? status.dashboardURL
          : objectLocation(object, "darwinclusters"),
      owner: spec.data.owner,
      description: `Ray cluster ${object.metadata.name} on runtime ${spec.data.runtime}${workers ? `, workers ${workers}` : ""}.`,
      tags: [...new Set([...spec.data.tags, "cluster"])].slice(0, 32),
    }),
  ];
}
