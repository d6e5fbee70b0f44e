/**
 * AdmissionReview (admission.k8s.io/v1) in and out: parse the API server's request, decide with the kind's
 * validator, and answer with every field error in one message.
 */
import { isDeepStrictEqual } from "node:util";
import { z } from "zod";
import { type LookupSource, type Lookups, loadLookups } from "../api/validation/context.ts";
import { type FieldError, formatFieldErrors, normalizeFieldErrors } from "../api/validation/field-error.ts";
import type { KindValidator } from "../api/validation/validator.ts";
import { GROUP } from "../crds/src/index.ts";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

const GroupVersionKind = z.object({ group: z.string(), version: z.string(), kind: z.string() });
const GroupVersionResource = z.object({ group: z.string(), version: z.string(), resource: z.string() });

export const AdmissionRequest = z.object({
  uid: z.string().min(1),
  kind: GroupVersionKind,
  resource: GroupVersionResource,
  subResource: z.string().optional(),
  name: z.string().optional(),
  namespace: z.string().optional(),
  operation: z.enum(["CREATE", "UPDATE", "DELETE", "CONNECT"]),
  userInfo: z.looseObject({ username: z.string().optional() }).optional(),
  object: z.unknown().optional(),
  oldObject: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});
export type AdmissionRequest = z.infer<typeof AdmissionRequest>;

export const AdmissionReviewRequest = z.object({
  apiVersion: z.literal(ADMISSION_API_VERSION),
  kind: z.literal("AdmissionReview"),
  request: AdmissionRequest,
});

/** The metav1.Status of a denial; the API server prefixes the message with the webhook's name. */
export interface AdmissionStatus {
  status: "Failure";
  code: number;
  reason: string;
  message: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: { reason: string; message: string; field: string }[];
  };
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: AdmissionStatus;
  warnings?: string[];
}

export interface AdmissionReviewResponse {
  apiVersion: typeof ADMISSION_API_VERSION;
  kind: "AdmissionReview";
  response: AdmissionResponse;
}

export const reviewResponse = (response: AdmissionResponse): AdmissionReviewResponse => ({
  apiVersion: ADMISSION_API_VERSION,
  kind: "AdmissionReview",
  response,
});

/**
 * Why a request needs no validation, or undefined when it does. Deletes, subresources (status), objects
 * being deleted and updates that leave the spec alone (labels, annotations, finalizers) are never judged: a
 * resource whose runtime was removed must still be able to lose its finalizer.
 */
export function skipReason(request: AdmissionRequest): string | undefined {
  if (request.operation !== "CREATE" && request.operation !== "UPDATE")
    return `operation ${request.operation}`;
  if (request.subResource) return `subresource ${request.subResource}`;
  if (request.operation === "UPDATE") {
    const object = request.object as
      | { metadata?: { deletionTimestamp?: string }; spec?: unknown }
      | undefined;
    const old = request.oldObject as { spec?: unknown } | undefined;
    if (object?.metadata?.deletionTimestamp) return "object is being deleted";
    if (isDeepStrictEqual(object?.spec, old?.spec)) return "spec unchanged";
  }
  return undefined;
}

/** Decides a request with already-loaded lookups (pure). */
export function decide(
  request: AdmissionRequest,
  validator: KindValidator,
  lookups: Lookups,
): AdmissionResponse {
  const object = withNamespace(request.object, request.namespace);
  const oldObject =
    request.operation === "UPDATE" ? withNamespace(request.oldObject, request.namespace) : undefined;
  const context = { lookups };
  const errors = normalizeFieldErrors(validator.validate(object, oldObject, context));
  if (errors.length > 0) return deny(request, validator, errors);
  const warnings = validator.warnings?.(object, oldObject, context) ?? [];
  return { uid: request.uid, allowed: true, ...(warnings.length > 0 && { warnings }) };
}

/** Decides a request, loading the lookups its kind's rules need first. */
export async function review(
  request: AdmissionRequest,
  validator: KindValidator,
  source: LookupSource,
): Promise<AdmissionResponse> {
  if (skipReason(request)) return { uid: request.uid, allowed: true };
  let lookups: Lookups;
  try {
    lookups = await loadLookups(source, validator.needs);
  } catch (error) {
    // Without the referenced resources the rules cannot judge; refusing keeps the failurePolicy's promise.
    return {
      uid: request.uid,
      allowed: false,
      status: {
        status: "Failure",
        code: 503,
        reason: "ServiceUnavailable",
        message: `could not read ${validator.needs.join(" and ")} to validate this ${validator.kind.kind}: ${(error as Error).message}; retry shortly`,
      },
    };
  }
  return decide(request, validator, lookups);
}

function deny(request: AdmissionRequest, validator: KindValidator, errors: FieldError[]): AdmissionResponse {
  return {
    uid: request.uid,
    allowed: false,
    status: {
      status: "Failure",
      code: 422,
      reason: "Invalid",
      message: formatFieldErrors(errors),
      details: {
        ...(request.name && { name: request.name }),
        group: GROUP,
        kind: validator.kind.kind,
        causes: errors.map((e) => ({
          reason: "FieldValueInvalid",
          field: e.field,
          message: e.fix ? `${e.message}; ${e.fix}` : e.message,
        })),
      },
    },
  };
}

/** On create the object may not carry its namespace yet; rules that compare namespaces need it. */
function withNamespace(object: unknown, namespace: string | undefined): unknown {
  if (!namespace || typeof object !== "object" || object === null) return object;
  const metadata = (object as { metadata?: Record<string, unknown> }).metadata ?? {};
  if (metadata.namespace) return object;
  return { ...object, metadata: { ...metadata, namespace } };
}
