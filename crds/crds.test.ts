import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { z } from "zod";
import { renderCrd } from "./src/crd.ts";
import { DarwinCluster } from "./src/darwin-cluster.ts";
import { findDrift } from "./src/drift.ts";
import { KINDS } from "./src/index.ts";
import { type JSONSchemaProps, toStructuralSchema } from "./src/openapi.ts";

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
    const extra = {
      ...DarwinCluster,
      kind: "DarwinNotebook",
      plural: "darwinnotebooks",
      singular: "darwinnotebook",
    };
    expect(findDrift([...KINDS, extra], dir)).toContainEqual({
      file: "darwin.dreamhorizon.org_darwinnotebooks.yaml",
      problem: "missing",
    });
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))(
    "%s: category darwin (namespaced) or darwin-admin (cluster-scoped), status subresource, printer columns",
    (_, def) => {
      const crd = renderCrd(def) as {
        spec: { names: { categories: string[] }; versions: Record<string, unknown>[] };
      };
      // kubectl applies a category to every kind in it: `delete darwin --all -n X` must not reach other tenants
      expect(crd.spec.names.categories).toEqual([def.scope === "Cluster" ? "darwin-admin" : "darwin"]);
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

  it("never shows users a raw regular expression: formats are CEL rules with words and an example", () => {
    for (const def of KINDS) {
      const text = JSON.stringify(renderCrd(def));
      expect(text, def.kind).not.toContain('"pattern"');
    }
  });

  it("stores no defaults inside list items, so re-applying a manifest changes nothing", () => {
    const defaultsInLists = (node: unknown, inList: boolean): number => {
      if (typeof node !== "object" || node === null) return 0;
      const own = inList && "default" in node ? 1 : 0;
      return Object.entries(node).reduce(
        (n, [key, child]) => n + defaultsInLists(child, inList || key === "items"),
        own,
      );
    };
    for (const def of KINDS) expect(defaultsInLists(renderCrd(def), false), def.kind).toBe(0);
    // zod still applies them where the spec is parsed
    const group = DarwinCluster.spec.parse({
      runtime: "r",
      owner: "a@example.com",
      head: { cores: 1, memory: 2 },
      workerGroups: [{ name: "w", cores: 1, memory: 4.5 }],
    }).workerGroups[0];
    expect(group).toEqual({
      name: "w",
      cores: 1,
      memory: 4.5,
      gpus: 0,
      minPods: 0,
      maxPods: 1,
      capacity: "on-demand",
    });
  });

  it('declares memory untyped, so 4.5 (GiB) passes as "4.5" does; zod (the webhook) checks it', () => {
    const spec = toStructuralSchema(DarwinCluster.spec) as {
      properties: { head: { properties: { memory: JSONSchemaProps } } };
    };
    const memory = spec.properties.head.properties.memory;
    expect(memory["x-kubernetes-preserve-unknown-fields"]).toBe(true);
    expect(memory.type).toBeUndefined();
    const schema = DarwinCluster.spec.shape.head.shape.memory;
    expect(schema.safeParse(4.5).success).toBe(true);
    expect(schema.safeParse("8 GB").error?.issues[0]?.message).toMatch(/^must be a memory size such as 8Gi/);
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
