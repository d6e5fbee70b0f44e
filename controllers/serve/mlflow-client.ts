/**
 * The parts of MLflow's REST API (3.x) a Serve needs: model versions by number, alias and stage, runs, and
 * artifact listings. Every response is parsed with zod; the schemas accept what the real server returns
 * (fixtures/ holds recorded responses) and ignore fields Darwin does not read.
 */
import { z } from "zod";

export const ModelVersion = z.looseObject({
  name: z.string(),
  version: z.string(),
  source: z.string().optional(),
  run_id: z.string().optional(),
  status: z.string().optional(),
  status_message: z.string().optional(),
  current_stage: z.string().optional(),
  aliases: z.array(z.string()).optional(),
});
export type ModelVersion = z.infer<typeof ModelVersion>;

const ModelVersionResponse = z.looseObject({ model_version: ModelVersion });
const LatestVersionsResponse = z.looseObject({ model_versions: z.array(ModelVersion).optional() });
export const Run = z.looseObject({
  info: z.looseObject({
    run_id: z.string(),
    experiment_id: z.string(),
    artifact_uri: z.string().optional(),
    lifecycle_stage: z.string().optional(),
    status: z.string().optional(),
  }),
});
const RunResponse = z.looseObject({ run: Run });
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

  getRun(runId: string): Promise<z.infer<typeof Run>> {
    return this.get("/api/2.0/mlflow/runs/get", { run_id: runId }, RunResponse).then((r) => r.run);
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
