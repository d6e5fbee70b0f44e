import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { renderCrd } from "./src/crd.ts";
import { DarwinCluster } from "./src/darwin-cluster.ts";
import { findDrift } from "./src/drift.ts";
import { KINDS } from "./src/index.ts";
import { toStructuralSchema } from "./src/openapi.ts";

const dir = import.meta.dirname;
const samplesDir = join(dir, "..", "samples");

describe("generated CRDs", () => {
  it("match the schemas (run npm run gen:crds after changing crds/src)", () => {
    expect(findDrift(KINDS, dir)).toEqual([]);
  });

  it("report drift when a schema changes and the YAML is not regenerated", () => {
    const changed = {
      ...DarwinCluster,
      spec: (DarwinCluster.spec as z.ZodObject)
        .extend({ priorityClass: z.string().optional().describe("A field added without regenerating.") })
        .describe("Desired state."),
    };
    const kinds = KINDS.map((k) => (k.kind === "DarwinCluster" ? changed : k));
    expect(findDrift(kinds, dir)).toEqual([
      { file: "darwin.dreamhorizon.org_darwinclusters.yaml", problem: "differs" },
    ]);
  });

  it("report a kind whose YAML was never generated", () => {
    const extra = { ...DarwinCluster, kind: "DarwinJob", plural: "darwinjobs", singular: "darwinjob" };
    expect(findDrift([...KINDS, extra], dir)).toContainEqual({
      file: "darwin.dreamhorizon.org_darwinjobs.yaml",
      problem: "missing",
    });
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))(
    "%s: category darwin, status subresource, printer columns",
    (_, def) => {
      const crd = renderCrd(def) as {
        spec: { names: { categories: string[] }; versions: Record<string, unknown>[] };
      };
      expect(crd.spec.names.categories).toEqual(["darwin"]);
      const version = crd.spec.versions[0];
      expect(version?.subresources).toEqual({ status: {} });
      expect(version?.additionalPrinterColumns).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: "Age" })]),
      );
    },
  );

  it("refuses a field without a description (kubectl explain would show nothing)", () => {
    expect(() => toStructuralSchema(z.object({ size: z.number() }).describe("A thing."))).toThrow(
      /spec.size has no description/,
    );
  });

  it("turns a number|string union into int-or-string without types inside anyOf", () => {
    const schema = toStructuralSchema(
      z
        .object({ memory: z.union([z.number().int(), z.string().regex(/^[0-9]+Gi$/)]).describe("Memory.") })
        .describe("R."),
    );
    expect((schema.properties as Record<string, unknown>).memory).toEqual({
      "x-kubernetes-int-or-string": true,
      pattern: "^[0-9]+Gi$",
      description: "Memory.",
    });
  });
});

describe("samples", () => {
  const files = readdirSync(samplesDir).filter((f) => f.endsWith(".yaml"));

  it("exist for every kind, named <group>_<version>_<kind>.yaml", () => {
    expect(files.sort()).toEqual(
      KINDS.map((k) => `darwin.dreamhorizon.org_v1alpha1_${k.kind.toLowerCase()}.yaml`).sort(),
    );
  });

  it.each(files)("%s parses with its kind's schema", (file) => {
    for (const doc of parseAllDocuments(readFileSync(join(samplesDir, file), "utf8"))) {
      const object = doc.toJS() as { kind: string; spec: unknown };
      const def = KINDS.find((k) => k.kind === object.kind);
      expect(def, `unknown kind ${object.kind}`).toBeDefined();
      const result = def?.spec.safeParse(object.spec);
      expect(result?.error).toBeUndefined();
    }
  });
});
