/**
 * The type of a child as a renderer returns it: client-node's type of the kind (V1Deployment,
 * V1Service...), with the fields server-side apply needs made required and metadata limited to what a
 * renderer sets (the server fills in the rest), so it goes to ctx.apply() as it is.
 */
import type { V1ObjectMeta } from "@kubernetes/client-node";

/** The metadata a renderer sets. */
export type RenderedMetadata = Pick<V1ObjectMeta, "labels" | "annotations"> & {
  name: string;
  namespace?: string;
};

export type Rendered<T extends { apiVersion?: string; kind?: string; metadata?: V1ObjectMeta }> = Omit<
  T,
  "apiVersion" | "kind" | "metadata" | "status"
> & { apiVersion: string; kind: string; metadata: RenderedMetadata };
