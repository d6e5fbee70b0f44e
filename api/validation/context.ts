/**
 * What validation rules may know beyond the resource itself: other resources they refer to. Rules read them
 * through `Lookups` (synchronous, so the rules stay pure functions); the webhook fills them from the API
 * server for each request and the reconcilers from their informer caches.
 */
import type { z } from "zod";
import { DarwinRuntime, ServeEnvironment } from "../../crds/src/index.ts";

export type DarwinRuntimeSpec = z.output<typeof DarwinRuntime.spec>;
export type ServeEnvironmentSpec = z.output<typeof ServeEnvironment.spec>;

/** A DarwinRuntime as rules see it: its name and parsed spec. */
export interface RuntimeRecord {
  name: string;
  spec: DarwinRuntimeSpec;
}

/** A ServeEnvironment as rules see it. */
export interface ServeEnvironmentRecord {
  name: string;
  spec: ServeEnvironmentSpec;
}

/** The referenced resources a rule set needs; each kind's validator declares which ones it reads. */
export interface LookupSnapshot {
  runtimes: readonly RuntimeRecord[];
  serveEnvironments: readonly ServeEnvironmentRecord[];
}

export type LookupName = keyof LookupSnapshot;

/** Where the webhook gets lookups from, per request (the API server, or an informer cache). */
export interface LookupSource {
  runtimes(): Promise<RuntimeRecord[]>;
  serveEnvironments(): Promise<ServeEnvironmentRecord[]>;
}

export interface Lookups {
  /** The DarwinRuntime a DarwinCluster's `spec.runtime` names (see `resolveRuntime`). */
  findRuntime(ref: string): RuntimeRecord | undefined;
  listRuntimes(): readonly RuntimeRecord[];
  findServeEnvironment(name: string): ServeEnvironmentRecord | undefined;
  listServeEnvironments(): readonly ServeEnvironmentRecord[];
}

export interface ValidationContext {
  lookups: Lookups;
}

/**
 * Resolves a runtime reference: a DarwinRuntime's displayName wins over another runtime's metadata.name, so a
 * display name keeps meaning the same runtime whatever runtimes are added later.
 */
export function resolveRuntime(runtimes: readonly RuntimeRecord[], ref: string): RuntimeRecord | undefined {
  return runtimes.find((r) => r.spec.displayName === ref) ?? runtimes.find((r) => r.name === ref);
}

export function lookupsFrom(snapshot: Partial<LookupSnapshot>): Lookups {
  const runtimes = snapshot.runtimes ?? [];
  const environments = snapshot.serveEnvironments ?? [];
  return {
    findRuntime: (ref) => resolveRuntime(runtimes, ref),
    listRuntimes: () => runtimes,
    findServeEnvironment: (name) => environments.find((e) => e.name === name),
    listServeEnvironments: () => environments,
  };
}

/** Loads only the lookups a validator needs. */
export async function loadLookups(source: LookupSource, needs: readonly LookupName[]): Promise<Lookups> {
  const snapshot: Partial<LookupSnapshot> = {};
  await Promise.all(
    needs.map(async (need) => {
      if (need === "runtimes") snapshot.runtimes = await source.runtimes();
      else snapshot.serveEnvironments = await source.serveEnvironments();
    }),
  );
  return lookupsFrom(snapshot);
}

/** Turns API objects into records, skipping any whose spec does not parse (they cannot be referred to). */
export function runtimeRecords(objects: readonly unknown[]): RuntimeRecord[] {
  return records(objects, DarwinRuntime.spec);
}

export function serveEnvironmentRecords(objects: readonly unknown[]): ServeEnvironmentRecord[] {
  return records(objects, ServeEnvironment.spec);
}

function records<S extends z.ZodType>(
  objects: readonly unknown[],
  schema: S,
): { name: string; spec: z.output<S> }[] {
  const out: { name: string; spec: z.output<S> }[] = [];
  for (const object of objects) {
    if (typeof object !== "object" || object === null) continue;
    const { metadata, spec } = object as { metadata?: { name?: unknown }; spec?: unknown };
    const parsed = schema.safeParse(spec);
    if (typeof metadata?.name === "string" && parsed.success)
      out.push({ name: metadata.name, spec: parsed.data });
  }
  return out;
}
