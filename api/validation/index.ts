/** Every kind's validation module, for the webhook routes and for reconcilers that validate before acting. */
import { KINDS, type KindDefinition } from "../../crds/src/index.ts";
import { artifactBuildValidator } from "./artifact-build.ts";
import { catalogAssetValidator } from "./catalog-asset.ts";
import { chronosTransformerValidator } from "./chronos-transformer.ts";
import { darwinClusterValidator } from "./darwin-cluster.ts";
import { darwinJobValidator } from "./darwin-job.ts";
import { darwinRuntimeValidator } from "./darwin-runtime.ts";
import { featureGroupValidator } from "./feature-group.ts";
import { parseResource } from "./schema.ts";
import { serveValidator } from "./serve.ts";
import { serveEnvironmentValidator } from "./serve-environment.ts";
import type { KindValidator } from "./validator.ts";

export { validateArtifactBuild } from "./artifact-build.ts";
export { validateCatalogAsset } from "./catalog-asset.ts";
export { validateChronosTransformer } from "./chronos-transformer.ts";
export * from "./context.ts";
export { darwinClusterWarnings, validateDarwinCluster } from "./darwin-cluster.ts";
export { validateDarwinJob } from "./darwin-job.ts";
export { validateDarwinRuntime } from "./darwin-runtime.ts";
export { validateFeatureGroup } from "./feature-group.ts";
export * from "./field-error.ts";
export { memoryBytes, memoryQuantity } from "./memory.ts";
export { validateServe } from "./serve.ts";
export { validateServeEnvironment } from "./serve-environment.ts";
export type { KindValidator, Validate, Warn } from "./validator.ts";

export const VALIDATORS: readonly KindValidator[] = [
  darwinRuntimeValidator,
  darwinClusterValidator,
  darwinJobValidator,
  featureGroupValidator,
  serveEnvironmentValidator,
  serveValidator,
  artifactBuildValidator,
  chronosTransformerValidator,
  catalogAssetValidator,
];

/**
 * Kinds without a module of their own (a kind just added to crds/src) still get their schema checked; the
 * unit test of this file insists every kind has a module.
 */
export function schemaOnlyValidator(kind: KindDefinition): KindValidator {
  return { kind, needs: [], validate: (object) => parseResource(kind, object).errors };
}

const byKind = new Map(VALIDATORS.map((v) => [v.kind.kind, v]));

/** The validators of every kind in crds/src KINDS, in that order. */
export const validatorsForAllKinds = (): KindValidator[] =>
  KINDS.map((kind) => byKind.get(kind.kind) ?? schemaOnlyValidator(kind));

export function validatorFor(kind: string): KindValidator | undefined {
  const definition = KINDS.find((k) => k.kind === kind);
  return byKind.get(kind) ?? (definition && schemaOnlyValidator(definition));
}
