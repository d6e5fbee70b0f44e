/** The controllers the operator runs, by how widely it is configured to act. */
import { describe, expect, it } from "vitest";
import { defaultDarwinConfig } from "./config.ts";
import { darwinControllers } from "./controllers.ts";

describe("darwinControllers", () => {
  it("runs every kind's controller when it watches all namespaces", () => {
    const names = darwinControllers(defaultDarwinConfig()).map((c) => c.name);
    expect(names).toContain("serveenvironment");
    expect(names).toContain("darwincluster");
  });

  it("leaves the cluster-scoped kinds alone when limited to some namespaces", () => {
    const controllers = darwinControllers({ ...defaultDarwinConfig(), namespaces: ["team-a"] });
    expect(controllers.map((c) => c.name)).not.toContain("serveenvironment");
    expect(controllers.every((c) => c.for.namespaced)).toBe(true);
    expect(controllers.map((c) => c.name)).toContain("darwincluster");
  });
});
