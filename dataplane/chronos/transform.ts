/**
 * ChronosTransformer rules as the processor runs them: compiled once per generation, selected by the event's
 * source and namespace, evaluated with JSONata, and their output checked before anything is written. A rule
 * sees the whole event (`id`, `namespace`, `source`, `type`, `time`, `payload`).
 */
import jsonata from "jsonata";
import { z } from "zod";
import { ChronosTransformer } from "../../crds/src/index.ts";
import type { KubeObject } from "../../operator/resource.ts";
import type { ChronosEvent } from "./event.ts";

const entityRef = z.strictObject({
  type: z.string().min(1).max(64),
  id: z.union([z.string().min(1).max(255), z.number().transform(String)]),
});
const attributes = z.record(z.string(), z.unknown()).optional();

/** What a transform must produce. */
export const transformOutput = z.strictObject({
  entities: z.array(entityRef.extend({ attributes })).max(1000).default([]),
  relationships: z
    .array(z.strictObject({ from: entityRef, to: entityRef, type: z.string().min(1).max(64), attributes }))
    .max(1000)
    .default([]),
});
export type TransformOutput = z.infer<typeof transformOutput>;

export interface CompiledTransformer {
  namespace: string;
  name: string;
  generation: number;
  source: string;
  priority: number;
  suspend: boolean;
  match: jsonata.Expression;
  transform: jsonata.Expression;
}

/** A rule that cannot run: its spec does not parse or an expression does not compile. */
export interface BrokenTransformer {
  namespace: string;
  name: string;
  generation: number;
  error: string;
}

export function compileTransformer(object: KubeObject): CompiledTransformer | BrokenTransformer {
  const base = {
    namespace: object.metadata.namespace ?? "",
    name: object.metadata.name,
    generation: object.metadata.generation ?? 0,
  };
  const spec = ChronosTransformer.spec.safeParse(object.spec);
  if (!spec.success) return { ...base, error: `invalid spec: ${z.prettifyError(spec.error)}` };
  try {
    return {
      ...base,
      source: spec.data.source,
      priority: spec.data.priority,
      suspend: spec.data.suspend,
      match: jsonata(spec.data.match),
      transform: jsonata(spec.data.transform),
    };
  } catch (error) {
    return { ...base, error: `expression does not compile: ${(error as Error).message}` };
  }
}

export function isCompiled(t: CompiledTransformer | BrokenTransformer): t is CompiledTransformer {
  return !("error" in t);
}

/**
 * The rules that apply to an event, in run order (priority, then namespace and name): those of its source
 * in its own namespace, and those in the system namespace, which apply to every tenant's events.
 */
export function selectTransformers(
  rules: readonly CompiledTransformer[],
  event: Pick<ChronosEvent, "namespace" | "source">,
  systemNamespace: string,
): CompiledTransformer[] {
  return rules
    .filter(
      (r) =>
        !r.suspend &&
        r.source === event.source &&
        (r.namespace === event.namespace || r.namespace === systemNamespace),
    )
    .sort(
      (a, b) =>
        a.priority - b.priority || a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
    );
}

export type RuleResult =
  | { outcome: "skipped" }
  | { outcome: "applied"; output: TransformOutput }
  | { outcome: "failed"; error: string };

/** Evaluates one rule on one event; never throws: a failure is a result the caller counts and dead-letters. */
export async function applyTransformer(rule: CompiledTransformer, event: ChronosEvent): Promise<RuleResult> {
  let stage = "match";
  try {
    const matched = await rule.match.evaluate(event);
    if (matched !== true) return { outcome: "skipped" };
    stage = "transform";
    const raw = await rule.transform.evaluate(event);
    // JSONata returns undefined when a path selects nothing: the rule had nothing to say about this event.
    if (raw === undefined) return { outcome: "applied", output: { entities: [], relationships: [] } };
    const output = transformOutput.safeParse(raw);
    if (!output.success)
      return { outcome: "failed", error: `transform output is invalid: ${z.prettifyError(output.error)}` };
    return { outcome: "applied", output: output.data };
  } catch (error) {
    const e = error as { message?: string; code?: string; position?: number };
    const where = typeof e.position === "number" ? ` at position ${e.position}` : "";
    return {
      outcome: "failed",
      error: `${stage} failed${where}: ${e.message ?? String(error)}${e.code ? ` (${e.code})` : ""}`,
    };
  }
}
