import { describe, expect, it } from "vitest";
import { markAvailable, nextRevisions, type Revision, type RevisionContent } from "./revisions.ts";

const T0 = new Date("2026-01-01T00:00:00Z");
const T1 = new Date("2026-01-01T01:00:00Z");
const content = (version: string, extra: Partial<RevisionContent> = {}): RevisionContent => ({
  modelURI: `models:/iris/${version}`,
  modelVersion: version,
  image: "mlflow:1",
  cores: 2,
  memory: "4Gi",
  capacity: "spot",
  ...extra,
});
const revision = (number: number, version: string, available: boolean): Revision => ({
  number,
  ...content(version),
  createdAt: T0.toISOString(),
  ...(available && { availableAt: T0.toISOString() }),
});

describe("nextRevisions", () => {
  it("starts at revision 1", () => {
    expect(nextRevisions({}, content("1"), T1)).toEqual({
      current: { number: 1, ...content("1"), createdAt: T1.toISOString() },
      previous: undefined,
    });
  });

  it("keeps the revisions when nothing changed (no new number, no new time)", () => {
    const revisions = { current: revision(2, "2", true), previous: revision(1, "1", true) };
    expect(nextRevisions(revisions, content("2"), T1)).toBe(revisions);
  });

  it.each([
    ["a moved alias", content("3")],
    ["more cores", content("2", { cores: 4 })],
    ["other capacity", content("2", { capacity: "on-demand" })],
    ["another image", content("2", { image: "registry/iris:2" })],
  ])("makes a new revision for %s; the available current one becomes previous", (_, desired) => {
    const next = nextRevisions(
      { current: revision(2, "2", true), previous: revision(1, "1", true) },
      desired,
      T1,
    );
    expect(next.current).toMatchObject({ number: 3, ...desired });
    expect(next.current?.availableAt).toBeUndefined();
    expect(next.previous?.number).toBe(2);
  });

  it("keeps the older previous revision when the current one never became available", () => {
    const next = nextRevisions(
      { current: revision(2, "2", false), previous: revision(1, "1", true) },
      content("3"),
      T1,
    );
    expect(next.current?.number).toBe(3);
    expect(next.previous?.number).toBe(1);
  });

  it("returns to the previous revision under its own number (rollback)", () => {
    const failed = revision(2, "2", false);
    const previous = revision(1, "1", true);
    const next = nextRevisions({ current: failed, previous }, content("1"), T1);
    expect(next.current).toBe(previous);
    expect(next.previous).toBeUndefined();
  });
});

describe("markAvailable", () => {
  it("records the first time only", () => {
    const once = markAvailable({ current: revision(1, "1", false) }, T1);
    expect(once.current?.availableAt).toBe(T1.toISOString());
    expect(markAvailable(once, new Date("2030-01-01T00:00:00Z"))).toBe(once);
  });
});
