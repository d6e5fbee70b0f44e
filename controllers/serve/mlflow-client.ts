/**
 * The parts of MLflow's REST API (3.x) Darwin uses: model versions by number, alias and stage, runs and
 * their experiments, and artifact listings (a Serve); every registered model and its versions (the
 * catalog's MLflow sync). Every response is parsed with zod; the schemas accept what the real server returns
 * (fixtures/ holds recorded responses) and ignore fields Darwin does not read.
 */
import { z } from "zod";

/** MLflow's tags on the wire: a list of key/value pairs (absent when there are none). */
const Tags = z.array(z.looseObject({ key: z.string(), value: z.string().optional() }));
/** Milliseconds since the epoch; MLflow sends them as JSON numbers. */
const Millis = z.number();

export const ModelVersion = z.looseObject({
  name: z.string(),
  version: z.string(),
  creation_timestamp: Millis.optional(),
  last_updated_timestamp: Millis.optional(),
  description: z.string().optional(),
  source: z.string().optional(),
  run_id: z.string().optional(),
  status: z.string().optional(),
  status_message: z.string().optional(),
  current_stage: z.string().optional(),
  aliases: z.array(z.string()).optional(),
  tags: Tags.optional(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

export const RegisteredModel = z.looseObject({
  name: z.string(),
  creation_timestamp: Millis.optional(),
  last_updated_timestamp: Millis.optional(),
  description: z.string().optional(),
  tags: Tags.optional(),
  aliases: z.array(z.looseObject({ alias: z.string(), version: z.string() })).optional(),
});
export type RegisteredModel = z.infer<typeof RegisteredModel>;

const ModelVersionResponse = z.looseObject({ model_version: ModelVersion });
const LatestVersionsResponse = z.looseObject({ model_versions: z.array(ModelVersion).optional() });
const RegisteredModelsPage = z.looseObject({
  registered_models: z.array(RegisteredModel).optional(),
  next_page_token: z.string().optional(),
});
const ModelVersionsPage = z.looseObject({
  model_versions: z.array(ModelVersion).optional(),
  next_page_token: z.string().optional(),
});

/** A dataset a run logged as an input (mlflow.log_input): where it came from, and its digest. */
export const DatasetInput = z.looseObject({
  tags: Tags.optional(),
  dataset: z.looseObject({
    name: z.string(),
    digest: z.string(),
    source_type: z.string().optional(),
    source: z.string().optional(),
    schema: z.string().optional(),
    profile: z.string().optional(),
  }),
});
export type DatasetInput = z.infer<typeof DatasetInput>;

export const Run = z.looseObject({
  info: z.looseObject({
    run_id: z.string(),
    run_name: z.string().optional(),
    experiment_id: z.string(),
    artifact_uri: z.string().optional(),
    lifecycle_stage: z.string().optional(),
    status: z.string().optional(),
    start_time: Millis.optional(),
    end_time: Millis.optional(),
  }),
  inputs: z.looseObject({ dataset_inputs: z.array(DatasetInput).optional() }).optional(),
});
export type Run = z.infer<typeof Run>;
const RunResponse = z.looseObject({ run: Run });
export const Experiment = z.looseObject({
  experiment_id: z.string(),
  name: z.string(),
  lifecycle_stage: z.string().optional(),
});
const ExperimentResponse = z.looseObject({ experiment: Experiment });
const ArtifactListResponse = z.looseObject({
  files: z
    .array(
      z.looseObject({ path: z.string(), is_dir: z.boolean().optional(), file_size: z.unknown().optional() }),
    )
    .optional(),
});
const ErrorResponse = z.looseObject({ error_code: z.string(), message: z.string().optional() });

/** An answer of MLflow that is an error: `notFound` when the thing asked for does not exist. */
export class MlflowError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = "MlflowError";
    this.status = status;
    this.code = code;
  }
  get notFound(): boolean {
    // MLflow answers an alias the model does not have with 400 INVALID_PARAMETER_VALUE
    // ("Registered model alias champion not found."), not with a 404 (fixtures/mlflow.json).
    return (
      this.status === 404 ||
      this.code === "RESOURCE_DOES_NOT_EXIST" ||
      (this.code === "INVALID_PARAMETER_VALUE" && / not found\.?$/.test(this.message))
    );
  }
}

export interface MlflowClientOptions {
  /** Per request; default 10 s. */
  timeoutMs?: number;
  /** Bearer token (MLFLOW_TRACKING_TOKEN), when the server wants one. */
  token?: string | undefined;
}

export class MlflowClient {
  readonly baseURL: string;
  private readonly timeoutMs: number;
  private readonly token: string | undefined;

  constructor(trackingURI: string, options: MlflowClientOptions = {}) {
    this.baseURL = trackingURI.replace(/\/+$/, "");
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.token = options.token;
  }

  getModelVersion(name: string, version: string): Promise<ModelVersion> {
    return this.get("/api/2.0/mlflow/model-versions/get", { name, version }, ModelVersionResponse).then(
      (r) => r.model_version,
    );
  }

  getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion> {
    return this.get("/api/2.0/mlflow/registered-models/alias", { name, alias }, ModelVersionResponse).then(
      (r) => r.model_version,
    );
  }

  /** The newest version in a stage (the deprecated stages: Staging, Production, Archived, None). */
  async getLatestVersion(name: string, stage: string): Promise<ModelVersion | undefined> {
    const response = await this.send(
      "POST",
      "/api/2.0/mlflow/registered-models/get-latest-versions",
      undefined,
      { name, stages: [stage] },
      LatestVersionsResponse,
    );
    return response.model_versions?.[0];
  }

  getRun(runId: string): Promise<Run> {
    return this.get("/api/2.0/mlflow/runs/get", { run_id: runId }, RunResponse).then((r) => r.run);
  }

  getExperiment(experimentId: string): Promise<z.infer<typeof Experiment>> {
    return this.get(
      "/api/2.0/mlflow/experiments/get",
      { experiment_id: experimentId },
      ExperimentResponse,
    ).then((r) => r.experiment);
  }

  /** Every registered model (all pages), or those `filter` selects (`name='iris'`). */
  searchRegisteredModels(filter?: string): Promise<RegisteredModel[]> {
    return this.allPages(
      "/api/2.0/mlflow/registered-models/search",
      filter ? { filter } : {},
      RegisteredModelsPage,
      (page) => [page.registered_models ?? [], page.next_page_token],
    );
  }

  /** Every version of every registered model (all pages), or those `filter` selects (`name='iris'`). */
  searchModelVersions(filter?: string): Promise<ModelVersion[]> {
    return this.allPages(
      "/api/2.0/mlflow/model-versions/search",
      filter ? { filter } : {},
      ModelVersionsPage,
      (page) => [page.model_versions ?? [], page.next_page_token],
    );
  }

  private async allPages<P, T>(
    path: string,
    query: Record<string, string>,
    schema: z.ZodType<P>,
    items: (page: P) => [T[], string | undefined],
  ): Promise<T[]> {
    const all: T[] = [];
    let token: string | undefined;
    do {
      const page = await this.get(
        path,
        { ...query, max_results: "100", ...(token && { page_token: token }) },
        schema,
      );
      const [found, next] = items(page);
      all.push(...found);
      token = next || undefined;
    } while (token);
    return all;
  }

  /** Files directly under an artifact path of the server's artifact store (mlflow-artifacts:/<path>). */
  async listArtifacts(path: string): Promise<Array<{ path: string; is_dir?: boolean | undefined }>> {
    const response = await this.get("/api/2.0/mlflow-artifacts/artifacts", { path }, ArtifactListResponse);
    return response.files ?? [];
  }

  private get<T>(path: string, query: Record<string, string>, schema: z.ZodType<T>): Promise<T> {
    return this.send("GET", path, query, undefined, schema);
  }

  private async send<T>(
    method: "GET" | "POST",
    path: string,
    query: Record<string, string> | undefined,
    body: unknown,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const url = new URL(`${this.baseURL}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) url.searchParams.set(key, value);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) headers["content-type"] = "application/json";
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const response = await fetch(url, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new MlflowError(
        response.status,
        "INVALID_RESPONSE",
        `MLflow ${path} answered ${response.status} with non-JSON: ${text.slice(0, 200)}`,
      );
    }
    if (!response.ok) {
      const error = ErrorResponse.safeParse(json);
      const code = error.success ? error.data.error_code : `HTTP_${response.status}`;
      const message = error.success ? (error.data.message ?? code) : text.slice(0, 200);
      throw new MlflowError(response.status, code, message);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new MlflowError(
        response.status,
        "INVALID_RESPONSE",
        `MLflow ${path} answered an unexpected body: ${parsed.error.message}`,
      );
    }
    return parsed.data;
  }
}
