/**
 * A client of the Ray dashboard's HTTP API (the Jobs REST API and the state API), as the head of a Ray
 * cluster serves it on port 8265. Every answer is parsed with zod; an unreachable head, a timeout or an
 * unexpected answer is a RayDashboardError naming the request.
 */
import { z } from "zod";
import { type ClusterHttp, directHttp, safeJson } from "./cluster-http.ts";

export class RayDashboardError extends Error {
  /** HTTP status, when the dashboard answered. */
  readonly status: number | undefined;

  constructor(message: string, status?: number) {
    super(message);
    this.name = "RayDashboardError";
    this.status = status;
  }
}

const RayJobInfo = z.looseObject({
  submission_id: z.string().nullish(),
  status: z.enum(["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"]),
  message: z.string().nullish(),
  start_time: z.number().nullish(),
  end_time: z.number().nullish(),
});
export type RayJobInfo = z.infer<typeof RayJobInfo>;

/** The runtime_env of a submission, in Ray's field names. */
export interface RayRuntimeEnv {
  pip?: string[];
  working_dir?: string;
  env_vars?: Record<string, string>;
}

export interface JobSubmission {
  submissionId: string;
  entrypoint: string;
  runtimeEnv?: RayRuntimeEnv;
  metadata?: Record<string, string>;
}

// `total` counts actors before the filter; the filtered ones are in `result`.
const ActorList = z.looseObject({
  data: z.looseObject({ result: z.looseObject({ result: z.array(z.looseObject({})) }) }),
});

export class RayDashboardClient {
  readonly url: string;
  private readonly http: ClusterHttp;

  /** `http` sends the requests: straight to the URL by default, or through the apiserver (cluster-http.ts). */
  constructor(url: string, http: ClusterHttp = directHttp) {
    this.url = url.replace(/\/+$/, "");
    this.http = http;
  }

  private async request(method: "GET" | "POST", path: string, body?: unknown) {
    try {
      return await this.http(method, `${this.url}${path}`, body === undefined ? {} : { body });
    } catch (error) {
      throw new RayDashboardError(`${method} ${this.url}${path} failed: ${(error as Error).message}`);
    }
  }

  private async json<T>(
    method: "GET" | "POST",
    path: string,
    schema: z.ZodType<T>,
    body?: unknown,
  ): Promise<T> {
    const response = await this.request(method, path, body);
    const text = response.body;
    if (response.status < 200 || response.status >= 300)
      throw new RayDashboardError(
        `${method} ${path} answered ${response.status}: ${lastLine(text)}`,
        response.status,
      );
    const parsed = schema.safeParse(safeJson(text));
    if (!parsed.success)
      throw new RayDashboardError(
        `${method} ${path} answered what is not a Ray dashboard answer: ${text.slice(0, 200)}`,
      );
    return parsed.data;
  }

  /** The job, or undefined when the head does not know it. */
  async getJob(submissionId: string): Promise<RayJobInfo | undefined> {
    try {
      return await this.json("GET", `/api/jobs/${encodeURIComponent(submissionId)}`, RayJobInfo);
    } catch (error) {
      if (error instanceof RayDashboardError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** Submits the job; a submission id the head already has counts as submitted (a retried reconcile). */
  async submitJob(job: JobSubmission): Promise<void> {
    const body = {
      entrypoint: job.entrypoint,
      submission_id: job.submissionId,
      ...(job.runtimeEnv && { runtime_env: job.runtimeEnv }),
      ...(job.metadata && { metadata: job.metadata }),
    };
    try {
      await this.json("POST", "/api/jobs/", z.looseObject({ submission_id: z.string() }), body);
    } catch (error) {
      if (error instanceof RayDashboardError && /already exists/.test(error.message)) return;
      throw error;
    }
  }

  /** Asks Ray to stop the job; false when the head does not know it. */
  async stopJob(submissionId: string): Promise<boolean> {
    try {
      await this.json("POST", `/api/jobs/${encodeURIComponent(submissionId)}/stop`, z.looseObject({}));
      return true;
    } catch (error) {
      if (error instanceof RayDashboardError && error.status === 404) return false;
      throw error;
    }
  }

  /** The job's whole log so far. */
  async jobLogs(submissionId: string): Promise<string> {
    const answer = await this.json(
      "GET",
      `/api/jobs/${encodeURIComponent(submissionId)}/logs`,
      z.looseObject({ logs: z.string() }),
    );
    return answer.logs;
  }

  /** Every job the head knows. */
  async listJobs(): Promise<RayJobInfo[]> {
    return this.json("GET", "/api/jobs/", z.array(RayJobInfo));
  }

  /** How many actors are alive on the cluster (counted up to 100). */
  async aliveActors(): Promise<number> {
    const query = "limit=100&detail=false&filter_keys=state&filter_predicates=%3D&filter_values=ALIVE";
    const answer = await this.json("GET", `/api/v0/actors?${query}`, ActorList);
    return answer.data.result.result.length;
  }
}

/** Ray answers errors with a Python traceback: its last non-empty line is the message. */
function lastLine(text: string): string {
  const lines = text
    .trim()
    .split("\n")
    .filter((l) => l.trim() !== "" && l.trim() !== ".");
  return (lines.at(-1) ?? "").slice(0, 500);
}

/** The last `count` lines of a log (without a trailing empty line), at most `maxChars` characters. */
export function logTail(logs: string, count: number, maxChars = 4096): string {
  const tail = logs.replace(/\n$/, "").split("\n").slice(-count).join("\n");
  return tail.length > maxChars ? tail.slice(-maxChars) : tail;
}
