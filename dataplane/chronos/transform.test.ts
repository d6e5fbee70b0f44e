import { describe, expect, it } from "vitest";
import type { KubeObject } from "../../operator/resource.ts";
import { sampleObject } from "../testing/samples.ts";
import type { ChronosEvent } from "./event.ts";
import { darwinClusterEvent } from "./lifecycle.ts";
import {
  applyTransformer,
  type CompiledTransformer,
  compileTransformer,
  isCompiled,
  selectTransformers,
} from "./transform.ts";

function rule(namespace: string, name: string, spec: Record<string, unknown>, generation = 1) {
  return compileTransformer({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "ChronosTransformer",
    metadata: { namespace, name, generation },
    spec: { source: "darwin-compute", transform: "{}", ...spec },
  } as KubeObject);
}

function compiled(namespace: string, name: string, spec: Record<string, unknown>): CompiledTransformer {
  const r = rule(namespace, name, spec);
  if (!isCompiled(r)) throw new Error(r.error);
  return r;
}

const event = (payload: Record<string, unknown>, type = "cluster_created"): ChronosEvent => ({
  id: "e1",
  namespace: "team-a",
  source: "darwin-compute",
  type,
  time: "2026-01-01T00:00:00.000Z",
  receivedAt: "2026-01-01T00:00:00.000Z",
  payload,
});

describe("the sample cluster-lifecycle transformer", () => {
  const sample = compileTransformer(sampleObject("chronostransformer", "cluster-lifecycle"));

  it("turns the operator's cluster_created event into cluster, user and owns", async () => {
    if (!isCompiled(sample)) throw new Error(sample.error);
    const cluster = {
      apiVersion: "darwin.dreamhorizon.org/v1alpha1",
      kind: "DarwinCluster",
      metadata: { namespace: "team-a", name: "housing-project", uid: "u1", resourceVersion: "7" },
      spec: { owner: "user@example.com", runtime: "Ray2.37.0-Py310-CPU" },
    } as KubeObject;
    const published = darwinClusterEvent(cluster, undefined, "Creating");
    const result = await applyTransformer(sample, {
      ...published,
      time: "2026-01-01T00:00:00.000Z",
      receivedAt: "2026-01-01T00:00:00.000Z",
      payload: published.payload ?? {},
    });
    expect(result).toEqual({
      outcome: "applied",
      output: {
        entities: [
          {
            type: "cluster",
            id: "housing-project",
            attributes: { phase: "Creating", runtime: "Ray2.37.0-Py310-CPU", lastEvent: "cluster_created" },
          },
          { type: "user", id: "user@example.com" },
        ],
        relationships: [
          {
            from: { type: "user", id: "user@example.com" },
            to: { type: "cluster", id: "housing-project" },
            type: "owns",
          },
        ],
      },
    });
  });

  it("skips events of other types", async () => {
    if (!isCompiled(sample)) throw new Error(sample.error);
    expect(await applyTransformer(sample, event({}, "job_started"))).toEqual({ outcome: "skipped" });
  });
});

describe("applyTransformer", () => {
  it("reports a runtime error with its position and code instead of throwing", async () => {
    const r = compiled("team-a", "bad", { transform: '$number("not a number") + 1' });
    const result = await applyTransformer(r, event({}));
    expect(result.outcome).toBe("failed");
    expect(result.outcome === "failed" && result.error).toMatch(/^transform failed at position \d+: .*D3030/);
  });

  it("fails when the output is not entities and relationships, naming the field", async () => {
    const r = compiled("team-a", "noid", {
      transform: '{"entities": [{"type": "cluster", "id": payload.missing}]}',
    });
    const result = await applyTransformer(r, event({}));
    expect(result.outcome === "failed" && result.error).toMatch(/entities\[0\]\.id/);
  });

  it("takes numeric ids as strings and treats an empty result as nothing to write", async () => {
    const numeric = compiled("team-a", "n", {
      transform: '{"entities": [{"type": "run", "id": payload.n}]}',
    });
    expect(await applyTransformer(numeric, event({ n: 42 }))).toEqual({
      outcome: "applied",
      output: { entities: [{ type: "run", id: "42" }], relationships: [] },
    });
    const empty = compiled("team-a", "e", { transform: "payload.nothing" });
    expect(await applyTransformer(empty, event({}))).toEqual({
      outcome: "applied",
      output: { entities: [], relationships: [] },
    });
  });
});

describe("compileTransformer", () => {
  it("reports an expression that does not compile", () => {
    const broken = rule("team-a", "b", { transform: "{ unclosed" });
    expect(isCompiled(broken)).toBe(false);
    expect(!isCompiled(broken) && broken.error).toMatch(/does not compile/);
  });
});

describe("selectTransformers", () => {
  it("runs the event's namespace's rules and the system namespace's, by priority then name", () => {
    const rules = [
      compiled("team-a", "b", { priority: 5 }),
      compiled("team-a", "a", { priority: 5 }),
      compiled("darwin-system", "first", { priority: 1 }),
      compiled("team-b", "other-tenant", {}),
      compiled("team-a", "other-source", { source: "darwin-serve" }),
      compiled("team-a", "off", { suspend: true }),
    ];
    const names = selectTransformers(
      rules,
      { namespace: "team-a", source: "darwin-compute" },
      "darwin-system",
    ).map((r) => r.name);
    expect(names).toEqual(["first", "a", "b"]);
  });
});
