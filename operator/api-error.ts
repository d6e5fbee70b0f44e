/** Errors the Kubernetes API answered with, carrying the HTTP code and the Status reason. */
import { z } from "zod";

const statusBody = z.looseObject({
  kind: z.literal("Status").optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
});

export class ApiError extends Error {
  /** HTTP status code, e.g. 404, 409, 410. */
  readonly code: number;
  /** Status.reason, e.g. NotFound, Conflict, Expired. */
  readonly reason: string;
  /** Set when the apiserver said it is busy (429, or 503 with Retry-After): how long it asked to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(code: number, reason: string, message: string, retryAfterMs?: number) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.retryAfterMs = retryAfterMs;
  }

  /** Builds the error from a response code and body (a Status object, or anything else). */
  static fromResponse(code: number, body: string, what: string, retryAfterMs?: number): ApiError {
    let parsed: z.infer<typeof statusBody> = {};
    try {
      parsed = statusBody.parse(JSON.parse(body));
    } catch {
      // not a Status: keep the raw text (trimmed) in the message
    }
    const reason = parsed.reason ?? `HTTP${code}`;
    const message = parsed.message ?? body.slice(0, 500);
    return new ApiError(parsed.code ?? code, reason, `${what}: ${code} ${reason}: ${message}`, retryAfterMs);
  }

  /** Builds the error from the Status object of a watch ERROR event. */
  static fromStatus(status: unknown, what: string): ApiError {
    const parsed = statusBody.safeParse(status);
    const code = parsed.success ? (parsed.data.code ?? 500) : 500;
    const reason = parsed.success ? (parsed.data.reason ?? `HTTP${code}`) : "Unknown";
    const message = parsed.success ? (parsed.data.message ?? "") : JSON.stringify(status);
    return new ApiError(code, reason, `${what}: ${code} ${reason}: ${message}`);
  }
}

const hasCode = (err: unknown, code: number): boolean => err instanceof ApiError && err.code === code;

export const isNotFound = (err: unknown): boolean => hasCode(err, 404);
export const isConflict = (err: unknown): boolean => hasCode(err, 409);
/** 410 Gone: the resourceVersion asked for is older than what the server keeps; relist. */
export const isGone = (err: unknown): boolean =>
  hasCode(err, 410) || (err instanceof ApiError && (err.reason === "Expired" || err.reason === "Gone"));
