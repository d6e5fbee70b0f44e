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

  /** The request that failed ("PATCH /apis/..."), when it was one; the Status message alone. */
  readonly request: string | undefined;
  readonly statusMessage: string;

  constructor(
    code: number,
    reason: string,
    message: string,
    request?: string,
    statusMessage = message,
    retryAfterMs?: number,
  ) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.reason = reason;
    this.request = request;
    this.statusMessage = statusMessage;
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
    return new ApiError(
      parsed.code ?? code,
      reason,
      `${what}: ${code} ${reason}: ${message}`,
      what,
      message,
      retryAfterMs,
    );
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
/** 403: the operator's role does not allow the request (the message names the verb and resource). */
export const isForbidden = (err: unknown): boolean => hasCode(err, 403);
/** 410 Gone: the resourceVersion asked for is older than what the server keeps; relist. */
export const isGone = (err: unknown): boolean =>
  hasCode(err, 410) || (err instanceof ApiError && (err.reason === "Expired" || err.reason === "Gone"));

const VERBS: Record<string, string> = {
  GET: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/**
 * What a 403 forbade, for a person: "create rayclusters.ray.io in namespace team-a". The apiserver's
 * own message names it when its authorization filter refused the request; when a PATCH or PUT that would
 * create a missing object is refused (server-side apply of a new child), the message names nothing, and
 * the verb is create.
 */
export function forbiddenAction(err: ApiError): string {
  const said =
    /cannot (\S+) resource "([^"]+)"(?: in API group "([^"]*)")?(?: in the namespace "([^"]+)")?/.exec(
      err.statusMessage,
    );
  if (said) {
    const [, verb, resource, group, namespace] = said;
    return `${verb} ${resource}${group ? `.${group}` : ""}${namespace ? ` in namespace ${namespace}` : ""}`;
  }
  const [method = "", path = ""] = (err.request ?? "").split(" ");
  const parts = path.split("?")[0]?.split("/").filter(Boolean) ?? [];
  // /api/v1/... or /apis/<group>/<version>/..., then optionally namespaces/<ns>, then the resource
  let rest = parts[0] === "api" ? parts.slice(2) : parts.slice(3);
  const group = parts[0] === "apis" ? parts[1] : undefined;
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length > 2) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const resource = `${rest[0] ?? "resources"}${rest[2] ? `/${rest[2]}` : ""}`;
  const verb = method === "PATCH" || method === "PUT" ? "create" : (VERBS[method] ?? method.toLowerCase());
  return `${verb} ${resource}${group ? `.${group}` : ""}${namespace ? ` in namespace ${namespace}` : ""}`;
}
