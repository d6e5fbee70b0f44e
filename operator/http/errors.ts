/**
 * Error answers of every Darwin HTTP service: one JSON shape with a stable code, the message, and the field
 * path when one field is to blame. Bad input (schema violations, malformed JSON, a body too large, an
 * unsupported content type) is answered with its 4xx status; only faults of the service itself become 500,
 * and their details go to the log, not to the client.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { z } from "zod";

/** Stable codes clients can switch on; the message is for people. */
export type ErrorCode =
  | "INVALID_REQUEST"
  | "MALFORMED_JSON"
  | "BODY_TOO_LARGE"
  | "UNSUPPORTED_MEDIA_TYPE"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "CONFLICT"
  | "BAD_REQUEST"
  | "UNAVAILABLE"
  | "INTERNAL";

export const FieldIssue = z.object({
  field: z.string().describe("Where the problem is, e.g. body.features[0].name"),
  message: z.string(),
});

export const ErrorBody = z.object({
  error: z.object({
    code: z.string().describe("Stable error code, e.g. INVALID_REQUEST, MALFORMED_JSON, FORBIDDEN"),
    message: z.string(),
    field: z.string().optional().describe("Path of the first offending field, when a field is to blame"),
    issues: z.array(FieldIssue).optional().describe("Every offending field, when there are several"),
  }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error a handler throws to answer with a given status and code. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: ErrorCode;
  readonly field: string | undefined;

  constructor(statusCode: number, code: ErrorCode, message: string, field?: string) {
    super(message);
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.code = code;
    this.field = field;
  }
}

export function errorBody(code: ErrorCode, message: string, field?: string): ErrorBody {
  return { error: { code, message, ...(field !== undefined && { field }) } };
}

/** Fastify's own error codes for bad input, and what we call them. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "MALFORMED_JSON",
  FST_ERR_CTP_EMPTY_JSON_BODY: "MALFORMED_JSON",
  FST_ERR_CTP_BODY_TOO_LARGE: "BODY_TOO_LARGE",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "UNSUPPORTED_MEDIA_TYPE",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "BAD_REQUEST",
  FST_ERR_BAD_URL: "BAD_REQUEST",
};

const STATUS_CODES: Record<number, ErrorCode> = {
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
  409: "CONFLICT",
  413: "BODY_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  503: "UNAVAILABLE",
};

/** `/features/0/name` in `body` -> `body.features[0].name`. */
export function fieldPath(context: string | undefined, instancePath: string): string {
  const parts = instancePath.split("/").filter((p) => p.length > 0);
  let path = context ?? "";
  for (const part of parts) path += /^\d+$/.test(part) ? `[${part}]` : path ? `.${part}` : part;
  return path;
}

/** Fastify's error handler for a service. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const issues = error.validation.map((v) => ({
      field: fieldPath(error.validationContext, v.instancePath),
      message: v.message ?? "is invalid",
    }));
    const first = issues[0] ?? { field: error.validationContext ?? "request", message: "is invalid" };
    const message = issues.map((i) => `${i.field}: ${i.message}`).join("; ");
    void reply.code(400).send({ error: { code: "INVALID_REQUEST", message, field: first.field, issues } });
    return;
  }
  if (error instanceof HttpError) {
    void reply.code(error.statusCode).send(errorBody(error.code, error.message, error.field));
    return;
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const code = FASTIFY_CODES[error.code] ?? STATUS_CODES[status] ?? "BAD_REQUEST";
    void reply.code(status).send(errorBody(code, error.message));
    return;
  }
  request.log.error({ err: error, method: request.method, url: request.url }, "Failed to serve a request");
  if (status === 503) {
    void reply.code(503).send(errorBody("UNAVAILABLE", error.message));
    return;
  }
  void reply.code(500).send(errorBody("INTERNAL", "internal error; the service log has the details"));
}
