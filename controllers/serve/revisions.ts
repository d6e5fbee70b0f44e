/**
 * Revisions of a Serve: what one rollout serves (pinned model, image, resources, placement). Status keeps
 * the current revision and the previous one that was available; a spec that matches the previous one again
 * (hermes rollback) returns to it under its own number, so its pods come back unchanged. Pure.
 */
import type { z } from "zod";
import type { Serve } from "../../crds/src/index.ts";

export type ServeStatus = z.output<typeof Serve.status>;
export type Revision = NonNullable<ServeStatus["currentRevision"]>;
/** What decides the pods: two revisions with the same content are the same revision. */
export type RevisionContent = Pick<
  Revision,
  "modelURI" | "modelVersion" | "image" | "cores" | "memory" | "capacity"
>;

export interface Revisions {
  current?: Revision | undefined;
  previous?: Revision | undefined;
}

export function sameContent(a: RevisionContent, b: RevisionContent): boolean {
  return (
    a.modelURI === b.modelURI &&
    a.image === b.image &&
    a.cores === b.cores &&
    a.memory === b.memory &&
    a.capacity === b.capacity
  );
}

const content = (r: Revision): RevisionContent => ({
  modelURI: r.modelURI,
  ...(r.modelVersion !== undefined && { modelVersion: r.modelVersion }),
  image: r.image,
  cores: r.cores,
  memory: r.memory,
  capacity: r.capacity,
});

/**
 * The revisions after asking for `desired`: unchanged when it is the current one; back to the previous
 * one (same number) when it matches that; otherwise a new number, and the current revision becomes the
 * previous one if it ever was available (a rollout that never was keeps the older previous revision).
 */
export function nextRevisions(revisions: Revisions, desired: RevisionContent, now: Date): Revisions {
  const { current, previous } = revisions;
  if (current && sameContent(content(current), desired)) return revisions;
  const keep = current?.availableAt !== undefined ? current : previous;
  if (previous && sameContent(content(previous), desired)) {
    return { current: previous, previous: current?.availableAt !== undefined ? current : undefined };
  }
  const number = Math.max(current?.number ?? 0, previous?.number ?? 0) + 1;
  return { current: { number, ...desired, createdAt: now.toISOString() }, previous: keep };
}

/** Records when the current revision first became available. */
export function markAvailable(revisions: Revisions, now: Date): Revisions {
  const { current } = revisions;
  if (!current || current.availableAt !== undefined) return revisions;
  return { ...revisions, current: { ...current, availableAt: now.toISOString() } };
}
