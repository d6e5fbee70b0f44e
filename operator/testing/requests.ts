/** Telling the requests a client made apart, for tests that count what a reconcile sends. */
import type { RequestRecord } from "../kube-client.ts";

/**
 * Whether a path names a collection: `/api/v1/pods`, `/api/v1/namespaces/x/pods`, `/apis/g/v/plural`,
 * `/apis/g/v/namespaces/x/plural` (and `/api/v1/namespaces` itself); not an object, a subresource or a
 * discovery document.
 */
export function isCollectionPath(path: string): boolean {
  const segments = path.split("/").filter((s) => s !== "");
  const prefix = segments[0] === "api" ? 2 : segments[0] === "apis" ? 3 : undefined;
  if (prefix === undefined) return false;
  const rest = segments.slice(prefix);
  return rest.length === 1 || (rest.length === 3 && rest[0] === "namespaces");
}

/** The requests that listed a collection: a GET of a collection that is not a watch. */
export function collectionLists(records: readonly RequestRecord[]): RequestRecord[] {
  return records.filter((r) => r.method === "GET" && !r.watch && isCollectionPath(r.path));
}
