/** Test inputs: the sample ArtifactBuild (samples/), parsed as the controller parses it. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ArtifactBuild } from "../../crds/src/index.ts";
import type { BuildInput } from "./render/build-job.ts";

const SAMPLE = join(import.meta.dirname, "../../samples/darwin.dreamhorizon.org_v1alpha1_artifactbuild.yaml");

/** The sample's spec with `overrides` merged at the top level, defaults applied. */
export function sampleBuild(overrides: Record<string, unknown> = {}): BuildInput {
  const sample = parse(readFileSync(SAMPLE, "utf8")) as { metadata: { name: string }; spec: object };
  return {
    metadata: { name: sample.metadata.name, namespace: "ml" },
    spec: ArtifactBuild.spec.parse({ ...sample.spec, ...overrides }),
  };
}
