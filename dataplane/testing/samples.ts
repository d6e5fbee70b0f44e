/** The project's sample resources, as the tests that check them read them (a sample file may hold several). */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../operator/resource.ts";

const SAMPLES = join(import.meta.dirname, "..", "..", "samples");

/** Every object of samples/darwin.dreamhorizon.org_v1alpha1_<kind>.yaml. */
export function sampleObjects(kind: string): KubeObject[] {
  const text = readFileSync(join(SAMPLES, `darwin.dreamhorizon.org_v1alpha1_${kind}.yaml`), "utf8");
  return parseAllDocuments(text).map((doc) => doc.toJSON() as KubeObject);
}

/** The sample object of `kind` named `name`. */
export function sampleObject(kind: string, name: string): KubeObject {
  const found = sampleObjects(kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} named ${name} in the samples`);
  return found;
}
