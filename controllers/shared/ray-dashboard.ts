/**
 * A client of the Ray dashboard's HTTP API (the Jobs REST API and the state API), as the head of a Ray
 * cluster serves it on port 8265. Every answer is parsed with zod; an unreachable head, a timeout or an
 * unexpected answer is a RayDashboardError naming the request.
 */
import { request as httpGet } from "node:http";
import { request as httpsGet } from "node:https";
import { z } from "zod";

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

/** Time given to one request: a head that does not answer within it counts as unreachable. */
const REQUEST_TIMEOUT_MS = 5_000;

export class RayDashboardClient {
  readonly url: string;

  constructor(url: string) {
    this.url = url.replace(/\/+$/, "");
  }

  private async request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    try {
      return await dashboardRequest(method, `${this.url}${path}`, body);
    } catch (error) {
      throw new RayDashboardError(`${method} ${this.url}${path} failed: ${(error as Error).message}`);
    }
  }

  private async json<T>(method: string, path: string, schema: z.ZodType<T>, body?: unknown): Promise<T> {
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

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP request with node:http rather than fetch: the dashboard refuses POSTs that carry the
 * Sec-Fetch-Mode header fetch always sends ("method not allowed for browser traffic").
 */
export function dashboardRequest(
  method: string,
  url: string,
  body?: unknown,
  timeoutMs = REQUEST_TIMEOUT_MS,
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const send = url.startsWith("https:") ? httpsGet : httpGet;
  return new Promise((resolve, reject) => {
    const req = send(
      url,
      {
        method,
        timeout: timeoutMs,
        headers: payload
          ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }
          : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
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
