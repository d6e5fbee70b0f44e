/**
 * Resolves a Serve's model URI through MLflow to one concrete, READY model: an alias or stage is pinned to
 * the version it names now, so a revision always serves exactly the model it was made for.
 */
import { type MlflowClient, MlflowError, type ModelVersion } from "./mlflow-client.ts";
import { type ModelRef, parseModelURI, pinnedModelURI } from "./model-uri.ts";

export interface ResolvedModel {
  /** What the model server loads: models:/name/<version> for registry URIs, the URI itself otherwise. */
  servedURI: string;
  name?: string;
  version?: string;
  runId?: string;
  /** The run's experiment (lineage: model version -> run -> experiment). */
  experimentId?: string;
  experimentName?: string;
  /** Where the model's files are (the version's source, or the run's artifact URI and path). */
  artifactUri?: string;
}

export type Resolution =
  | { ok: true; model: ResolvedModel }
  /** reason: ModelNotFound, ModelVersionNotReady, InvalidModelURI or MLflowUnavailable. */
  | { ok: false; reason: string; message: string };

const fail = (reason: string, message: string): Resolution => ({ ok: false, reason, message });

/**
 * `known`: the model of the last resolution; when the run is the same, its experiment is taken from there
 * instead of asking MLflow again (a Serve on an alias resolves every check interval).
 */
export async function resolveModel(
  uri: string,
  client: MlflowClient | undefined,
  known?: Pick<ResolvedModel, "runId" | "experimentId" | "experimentName">,
): Promise<Resolution> {
  const ref = parseModelURI(uri);
  if (!ref) return fail("InvalidModelURI", `spec.model.uri ${uri} is not a model URI MLflow can resolve.`);
  if (ref.kind === "s3") return { ok: true, model: { servedURI: uri, artifactUri: uri } };
  if (!client) {
    return fail(
      "MLflowUnavailable",
      `${uri} needs MLflow, and neither the ServeEnvironment's mlflowTrackingURI nor the operator's serving.mlflowTrackingURI is set.`,
    );
  }
  try {
    const resolution = await resolveWith(ref, uri, client);
    if (!resolution.ok) return resolution;
    return ok(await withExperiment(resolution.model, client, known));
  } catch (err) {
    if (err instanceof MlflowError && err.notFound) {
      return fail("ModelNotFound", `${uri} does not exist in MLflow at ${client.baseURL}: ${err.message}`);
    }
    const message = err instanceof Error ? err.message : String(err);
    return fail("MLflowUnavailable", `MLflow at ${client.baseURL} could not resolve ${uri}: ${message}`);
  }
}

async function resolveWith(ref: Exclude<ModelRef, { kind: "s3" }>, uri: string, client: MlflowClient) {
  switch (ref.kind) {
    case "registry-alias":
      return fromVersion(uri, await client.getModelVersionByAlias(ref.name, ref.alias));
    case "registry-version":
      return fromVersion(uri, await client.getModelVersion(ref.name, ref.version));
    case "registry-stage": {
      const version = await client.getLatestVersion(ref.name, ref.stage);
      if (!version)
        return fail("ModelNotFound", `registered model ${ref.name} has no version in stage ${ref.stage}.`);
      return fromVersion(uri, version);
    }
    case "run": {
      const run = await client.getRun(ref.runId);
      if (run.info.lifecycle_stage === "deleted")
        return fail("ModelNotFound", `run ${ref.runId} of ${uri} is deleted.`);
      const artifactUri = run.info.artifact_uri ? `${run.info.artifact_uri}/${ref.path}` : undefined;
      return ok({
        servedURI: uri,
        runId: ref.runId,
        experimentId: run.info.experiment_id,
        ...(artifactUri && { artifactUri }),
      });
    }
    case "artifacts": {
      const files = await client.listArtifacts(ref.path);
      if (!files.some((f) => f.path.split("/").at(-1) === "MLmodel")) {
        return fail("ModelNotFound", `${uri} holds no MLflow model (no MLmodel file under it).`);
      }
      const runId = /(?:^|\/)([0-9a-f]{32})(?:\/|$)/.exec(ref.path)?.[1];
      return ok({ servedURI: uri, artifactUri: uri, ...(runId && { runId }) });
    }
  }
}

const ok = (model: ResolvedModel): Resolution => ({ ok: true, model });

/**
 * The model with its run's experiment (id and name). For lineage only: a run or experiment MLflow no
 * longer answers for leaves the model without them and never fails the resolution.
 */
async function withExperiment(
  model: ResolvedModel,
  client: MlflowClient,
  known: Pick<ResolvedModel, "runId" | "experimentId" | "experimentName"> | undefined,
): Promise<ResolvedModel> {
  if (!model.runId) return model;
  if (known?.runId === model.runId && known.experimentId !== undefined) {
    return {
      ...model,
      experimentId: known.experimentId,
      ...(known.experimentName !== undefined && { experimentName: known.experimentName }),
    };
  }
  try {
    const experimentId = model.experimentId ?? (await client.getRun(model.runId)).info.experiment_id;
    const experiment = await client.getExperiment(experimentId).catch(() => undefined);
    return { ...model, experimentId, ...(experiment && { experimentName: experiment.name }) };
  } catch {
    return model;
  }
}

function fromVersion(uri: string, version: ModelVersion): Resolution {
  if (version.status !== undefined && version.status !== "READY") {
    return fail(
      "ModelVersionNotReady",
      `${uri} is version ${version.version} of ${version.name}, which is ${version.status}${version.status_message ? ` (${version.status_message})` : ""}, not READY.`,
    );
  }
  return ok({
    servedURI: pinnedModelURI(version.name, version.version),
    name: version.name,
    version: version.version,
    ...(version.run_id && { runId: version.run_id }),
    ...(version.source && { artifactUri: version.source }),
  });
}
