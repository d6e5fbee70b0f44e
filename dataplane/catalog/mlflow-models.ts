/**
 * MLflow registered models as catalog assets (pure): which tenant a model belongs to, the asset (type
 * `model`) with its description, tags and versions, and the OpenLineage RunEvent that links a version to
 * the run that logged it and the datasets that run read. The sync (mlflow-sync.ts) does the I/O.
 */
import type {
  DatasetInput,
  ModelVersion,
  RegisteredModel,
  Run,
} from "../../controllers/serve/mlflow-client.ts";
import { DNS_LABEL } from "../../crds/src/index.ts";
import type { AssetKey, AssetSpec, ModelVersionEntry } from "./assets.ts";
import { nodeId } from "./lineage.ts";
import type { RunEvent } from "./openlineage.ts";

/** The registered model's tag naming its tenant (a namespace). */
export const NAMESPACE_TAG = "darwin.namespace";
/** The registered model's tag naming its owner (an email address). */
export const OWNER_TAG = "darwin.owner";
/** Every MLflow asset's uid starts with this (the sync finds what it registered by it). */
export const MLFLOW_UID_PREFIX = "mlflow:";
/** OpenLineage namespace of MLflow's runs (jobs) and model versions (datasets). */
export const MLFLOW_LINEAGE_NAMESPACE = "mlflow";
/** Who produced the RunEvents (a URI, as OpenLineage wants), and where the custom facets are described. */
const PRODUCER = "urn:darwin:catalog:mlflow-sync";
const facetSchema = (facet: string) => `urn:darwin:catalog:facets:${facet}`;
const DEFAULT_OWNER = "platform@darwin.local";
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const tagValue = (tags: RegisteredModel["tags"], key: string) => tags?.find((t) => t.key === key)?.value;

/**
 * The namespace a model is registered in: its `darwin.namespace` tag, else `defaultNamespace`; when neither
 * gives a namespace name, why it is left out.
 */
export function modelNamespace(
  model: RegisteredModel,
  defaultNamespace: string | undefined,
): { namespace: string } | { skipped: string } {
  const tagged = tagValue(model.tags, NAMESPACE_TAG);
  if (tagged !== undefined) {
    return DNS_LABEL.test(tagged) && tagged.length <= 63
      ? { namespace: tagged }
      : { skipped: `its ${NAMESPACE_TAG} tag "${tagged}" is not a namespace name` };
  }
  return defaultNamespace
    ? { namespace: defaultNamespace }
    : {
        skipped: `it has no ${NAMESPACE_TAG} tag and the catalog has no default namespace for MLflow models (DARWIN_CATALOG_MLFLOW_NAMESPACE)`,
      };
}

/** The asset's name: `mlflow:<registered model name>` (never a Kubernetes name, so never a CatalogAsset's). */
export const modelAssetName = (name: string) => `mlflow:${name}`;

/**
 * A model version's dataset name in the lineage graph, `models/<name>/<version>`. Node ids take the name
 * after the last colon, so a colon in a model name becomes `_`.
 */
export const versionDatasetName = (name: string, version: string) =>
  `models/${name.replaceAll(":", "_")}/${version}`;

/** The lineage node of a model version: `dataset:mlflow:models/<name>/<version>`. */
export const versionNode = (name: string, version: string) =>
  nodeId({ type: "dataset", namespace: MLFLOW_LINEAGE_NAMESPACE, name: versionDatasetName(name, version) });

/** What the sync knows of a version's run: the run, and its experiment's name when MLflow gave it. */
export interface RunInfo {
  run: Run;
  experimentName?: string | undefined;
}

export interface ModelAsset {
  key: AssetKey & { uid: string };
  spec: AssetSpec;
  versions: ModelVersionEntry[];
}

const iso = (millis: number | undefined) =>
  millis === undefined ? undefined : new Date(millis).toISOString();
const byNumberDescending = (a: ModelVersion, b: ModelVersion) => Number(b.version) - Number(a.version);

/**
 * The asset of a registered model in `namespace`: type `model`, location `models:/<name>`, its description
 * (or one naming the model), its tags as `key=value` and its aliases as `alias=<alias>` (plus `mlflow`), and
 * its versions newest first with their aliases, run and experiment. The uid carries the model's creation
 * time, so a model deleted and registered again under the same name starts a new history.
 */
export function mlflowModelAsset(
  model: RegisteredModel,
  namespace: string,
  versions: ModelVersion[],
  runs: ReadonlyMap<string, RunInfo>,
): ModelAsset {
  const aliases = new Map<string, string[]>();
  for (const { alias, version } of model.aliases ?? [])
    aliases.set(version, [...(aliases.get(version) ?? []), alias]);
  const entries = [...versions].sort(byNumberDescending).map((v): ModelVersionEntry => {
    const run = v.run_id ? runs.get(v.run_id) : undefined;
    const created = iso(v.creation_timestamp);
    return {
      version: v.version,
      ...(v.status && { status: v.status }),
      aliases: (aliases.get(v.version) ?? v.aliases ?? []).toSorted(),
      ...(v.description && { description: v.description }),
      ...(v.source && { source: v.source }),
      ...(v.run_id && { runId: v.run_id }),
      ...(run && { experimentId: run.run.info.experiment_id }),
      ...(run?.experimentName && { experimentName: run.experimentName }),
      ...(created && { createdAt: created }),
      ...(v.run_id && { lineageNode: versionNode(model.name, v.version) }),
    };
  });
  const owner = tagValue(model.tags, OWNER_TAG);
  const aliasText = [...(model.aliases ?? [])]
    .sort((a, b) => a.alias.localeCompare(b.alias))
    .map((a) => `${a.alias} -> version ${a.version}`);
  const latest = entries[0]?.version;
  const summary = [
    latest ? `latest version ${latest}` : "no versions yet",
    ...(aliasText.length > 0 ? [`aliases ${aliasText.join(", ")}`] : []),
  ].join("; ");
  const about = model.description?.trim() || `MLflow registered model ${model.name}`;
  const tags = [
    "mlflow",
    ...(model.tags ?? [])
      .filter((t) => t.key !== NAMESPACE_TAG && t.key !== OWNER_TAG)
      .map((t) => (t.value ? `${t.key}=${t.value}` : t.key)),
    ...(model.aliases ?? []).map((a) => `alias=${a.alias}`),
  ].filter((tag, i, all) => tag.length <= 63 && all.indexOf(tag) === i);
  return {
    key: {
      namespace,
      name: modelAssetName(model.name),
      uid: `${MLFLOW_UID_PREFIX}${model.creation_timestamp ?? 0}`,
    },
    spec: {
      type: "model",
      location: `models:/${model.name}`,
      owner: owner && EMAIL.test(owner) ? owner : DEFAULT_OWNER,
      description: `${about} (${summary}).`,
      tags: tags.slice(0, 32),
      schema: [],
      format: "mlflow",
    },
    versions: entries,
  };
}

/** OpenLineage's dataset name for what a run logged as input: its source's URI split as OpenLineage names them. */
export function inputDataset(input: DatasetInput): {
  namespace: string;
  name: string;
  facets: Record<string, unknown>;
} {
  const { dataset } = input;
  const facets = {
    mlflow_dataset: {
      _producer: PRODUCER,
      _schemaURL: facetSchema("MlflowDatasetFacet"),
      name: dataset.name,
      digest: dataset.digest,
      ...(dataset.source_type && { sourceType: dataset.source_type }),
    },
  };
  const uri = sourceURI(dataset.source);
  if (uri) {
    const parsed = URL.canParse(uri) ? new URL(uri) : undefined;
    if (parsed?.host) {
      const name = `${parsed.pathname}${parsed.search}`.replace(/^\/+/, "") || dataset.name;
      return { namespace: `${parsed.protocol}//${parsed.host}`, name: name.replaceAll(":", "_"), facets };
    }
  }
  // A dataset with no addressable source (logged from code, a DataFrame): MLflow's name and digest.
  return {
    namespace: MLFLOW_LINEAGE_NAMESPACE,
    name: `datasets/${dataset.name}@${dataset.digest}`.replaceAll(":", "_"),
    facets,
  };
}

/** The URI in an MLflow dataset source (a JSON string: {"url": ...}, {"uri": ...} or {"path": ...}). */
function sourceURI(source: string | undefined): string | undefined {
  if (!source) return undefined;
  try {
    const parsed = JSON.parse(source) as Record<string, unknown>;
    const value = parsed.url ?? parsed.uri ?? parsed.path;
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/** An MLflow run id (32 hex digits) as the UUID OpenLineage wants for a run id. */
export function runUUID(runId: string): string | undefined {
  const hex = runId.toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const RUN_STATES: Record<string, NonNullable<RunEvent["eventType"]>> = {
  RUNNING: "RUNNING",
  SCHEDULED: "START",
  FINISHED: "COMPLETE",
  FAILED: "FAIL",
  KILLED: "ABORT",
};

/** Whether a run will not change any more (its lineage need not be read again). */
export const runDone = (run: Run) => ["FINISHED", "FAILED", "KILLED"].includes(run.info.status ?? "");

/**
 * The lineage of one model version: the run that logged it as a job (`runs/<run id>`, with the run's
 * name and experiment as a facet) reading the datasets the run logged as inputs and writing the version
 * (`models/<name>/<version>`). Undefined for a run id that is not MLflow's 32 hex digits.
 */
export function versionRunEvent(
  modelName: string,
  version: ModelVersion,
  info: RunInfo,
): RunEvent | undefined {
  const { run } = info;
  const runId = runUUID(run.info.run_id);
  if (!runId) return undefined;
  const time = run.info.end_time ?? run.info.start_time ?? version.creation_timestamp ?? 0;
  return {
    eventType: RUN_STATES[run.info.status ?? ""] ?? "OTHER",
    eventTime: new Date(time).toISOString(),
    producer: PRODUCER,
    schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    run: { runId },
    job: {
      namespace: MLFLOW_LINEAGE_NAMESPACE,
      name: `runs/${run.info.run_id}`,
      facets: {
        mlflow_run: {
          _producer: PRODUCER,
          _schemaURL: facetSchema("MlflowRunFacet"),
          runId: run.info.run_id,
          ...(run.info.run_name && { runName: run.info.run_name }),
          experimentId: run.info.experiment_id,
          ...(info.experimentName && { experimentName: info.experimentName }),
          ...(run.info.status && { status: run.info.status }),
        },
      },
    },
    inputs: (run.inputs?.dataset_inputs ?? []).map(inputDataset),
    outputs: [
      {
        namespace: MLFLOW_LINEAGE_NAMESPACE,
        name: versionDatasetName(modelName, version.version),
        facets: {
          mlflow_model_version: {
            _producer: PRODUCER,
            _schemaURL: facetSchema("MlflowModelVersionFacet"),
            name: modelName,
            version: version.version,
            ...(version.source && { source: version.source }),
          },
        },
      },
    ],
  };
}
