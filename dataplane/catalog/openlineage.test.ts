import { describe, expect, it } from "vitest";
import { nodeId, parseNodeId } from "./lineage.ts";
import { validateRunEvent } from "./openlineage.ts";

const valid = {
  eventType: "COMPLETE",
  eventTime: "2026-01-01T10:00:00.000Z",
  producer: "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python",
  schemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
  run: { runId: "0195e0a4-8a6c-7f0e-9d7c-3c1f0f6f2b1a", facets: {} },
  job: { namespace: "airflow", name: "housing.train", facets: {} },
  inputs: [{ namespace: "s3://lake", name: "housing/raw", facets: {} }],
  outputs: [{ namespace: "s3://lake", name: "housing/features", facets: {} }],
};

describe("validateRunEvent", () => {
  it("accepts a RunEvent of spec 2-0-2", () => {
    const result = validateRunEvent(valid);
    expect("event" in result && result.event.inputs).toHaveLength(1);
  });

  it("names each malformed field", () => {
    const result = validateRunEvent({
      ...valid,
      run: { runId: "not-a-uuid" },
      job: { namespace: "airflow" },
      eventType: "DONE",
    });
    expect("issues" in result && result.issues).toEqual(
      expect.arrayContaining([
        { field: "run.runId", message: "must be a valid uuid" },
        { field: "job.name", message: "is required" },
        { field: "eventType", message: expect.stringMatching(/^must be one of START, RUNNING, COMPLETE/) },
      ]),
    );
  });

  it("names a dataset missing its name by index", () => {
    const result = validateRunEvent({ ...valid, outputs: [{ namespace: "s3://lake" }] });
    expect("issues" in result && result.issues[0]).toEqual({
      field: "outputs[0].name",
      message: "is required",
    });
  });

  it("refuses an event without eventTime", () => {
    const { eventTime: _t, ...rest } = valid;
    expect("issues" in validateRunEvent(rest) && validateRunEvent(rest)).toMatchObject({
      issues: [{ field: "eventTime", message: "is required" }],
    });
  });
});

describe("node ids", () => {
  it("keep a namespace with a port whole and round-trip", () => {
    const ref = { type: "dataset" as const, namespace: "kafka://127.0.0.1:29092", name: "events" };
    expect(nodeId(ref)).toBe("dataset:kafka://127.0.0.1:29092:events");
    expect(parseNodeId(nodeId(ref))).toEqual(ref);
    expect(parseNodeId("table:x:y")).toBeUndefined();
  });
});
