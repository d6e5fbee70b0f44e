/**
 * The Chronos event: what a client posts, and what travels on the events topic. A posted event names its
 * source, type and payload; the service fills in what the client left out (id, time, namespace) and the time
 * it received it, so the message on Kafka is complete and a consumer never guesses.
 */
import { z } from "zod";
import { DNS_LABEL } from "../../crds/src/index.ts";

/** Same rule as ChronosTransformer.spec.source, so every source a client can send a rule can select. */
export const SOURCE = /^[a-z0-9]([-a-z0-9_.]*[a-z0-9])?$/;
const EVENT_ID = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;

export const eventInput = z.strictObject({
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(EVENT_ID, "letters, digits and . _ : / - only, starting with a letter or digit")
    .optional()
    .describe("Unique id of the event; the same id sent twice is stored once. Generated when absent."),
  source: z
    .string()
    .min(1)
    .max(128)
    .regex(SOURCE, "lower-case letters, digits, '-', '_' and '.', e.g. darwin-compute")
    .describe("The system the event comes from, e.g. darwin-compute; transformers select events by source."),
  type: z.string().min(1).max(128).describe("What happened, e.g. cluster_created."),
  time: z.iso
    .datetime({ offset: true })
    .optional()
    .describe("When it happened (RFC 3339); the time the service received it when absent."),
  namespace: z
    .string()
    .max(63)
    .regex(DNS_LABEL, "must be a namespace name")
    .optional()
    .describe("The tenant the event belongs to; the caller's service-account namespace when absent."),
  payload: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The event's data, a JSON object the transformers read as `payload`."),
});
export type EventInput = z.infer<typeof eventInput>;

/** An event as it is on the events topic and in the event log. */
export const chronosEvent = z.strictObject({
  id: z.string().min(1).max(128),
  namespace: z.string().regex(DNS_LABEL).max(63),
  source: z.string().regex(SOURCE).max(128),
  type: z.string().min(1).max(128),
  time: z.iso.datetime({ offset: true }),
  receivedAt: z.iso.datetime({ offset: true }),
  payload: z.record(z.string(), z.unknown()),
});
export type ChronosEvent = z.infer<typeof chronosEvent>;

/** Completes a posted event: an id when it has none, its time, its namespace. */
export function completeEvent(
  input: EventInput,
  defaults: { namespace: string; now: Date; newId: () => string },
): ChronosEvent {
  const receivedAt = defaults.now.toISOString();
  return {
    id: input.id ?? defaults.newId(),
    namespace: input.namespace ?? defaults.namespace,
    source: input.source,
    type: input.type,
    time: input.time ? new Date(input.time).toISOString() : receivedAt,
    receivedAt,
    payload: input.payload,
  };
}
