/** Every Darwin kind, in the order the CRDs are installed and listed. */
import { ArtifactBuild } from "./artifact-build.ts";
import { CatalogAsset } from "./catalog-asset.ts";
import { ChronosTransformer } from "./chronos-transformer.ts";
import { DarwinCluster } from "./darwin-cluster.ts";
import { DarwinJob } from "./darwin-job.ts";
import { DarwinRuntime } from "./darwin-runtime.ts";
import { FeatureGroup } from "./feature-group.ts";
import type { KindDefinition } from "./kind.ts";
import { Serve } from "./serve.ts";
import { ServeEnvironment } from "./serve-environment.ts";

export * from "./common.ts";
export type { KindDefinition, PrinterColumn } from "./kind.ts";
export {
  ArtifactBuild,
  CatalogAsset,
  ChronosTransformer,
  DarwinCluster,
  DarwinJob,
  DarwinRuntime,
  FeatureGroup,
  Serve,
  ServeEnvironment,
};

export const KINDS: readonly KindDefinition[] = [
  DarwinRuntime,
  DarwinCluster,
  DarwinJob,
  FeatureGroup,
  ServeEnvironment,
  Serve,
  ArtifactBuild,
  ChronosTransformer,
  CatalogAsset,
];
