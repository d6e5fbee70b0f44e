import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "./config.ts";

function file(content: string, name = "operator.yaml"): string {
  const path = join(mkdtempSync(join(tmpdir(), "darwin-config-")), name);
  writeFileSync(path, content);
  return path;
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
}

describe("operator configuration", () => {
  it("has defaults for everything", () => {
    const config = loadConfig({ env: {} });
    expect(config.namespaces).toEqual([]);
    expect(config.workers).toBe(4);
    expect(config.leaderElection).toMatchObject({
      enabled: true,
      leaseDurationSeconds: 15,
      renewDeadlineSeconds: 10,
      retryPeriodSeconds: 2,
    });
    expect(config.http.port).toBe(8080);
  });

  it("reads YAML and JSON files, and environment variables win over them", () => {
    const yaml = file(
      "workers: 2\nnamespaces: [team-a]\nleaderElection:\n  leaseDurationSeconds: 6\n  renewDeadlineSeconds: 4\n  retryPeriodSeconds: 1\n",
    );
    const config = loadConfig({ file: yaml, env: { DARWIN_WORKERS: "8", DARWIN_LEADER_ELECTION: "false" } });
    expect(config.workers).toBe(8);
    expect(config.namespaces).toEqual(["team-a"]);
    expect(config.leaderElection).toMatchObject({
      enabled: false,
      leaseDurationSeconds: 6,
      retryPeriodSeconds: 1,
    });
    const json = file('{"http": {"port": 9090}}', "operator.json");
    expect(loadConfig({ env: { DARWIN_OPERATOR_CONFIG: json, DARWIN_NAMESPACES: "a, b" } })).toMatchObject({
      http: { port: 9090 },
      namespaces: ["a", "b"],
    });
  });

  it("names every bad field, and the file or variable it came from", () => {
    const path = file(
      "workers: 0\nwrokers: 3\nleaderElection:\n  leaseDurationSeconds: 5\n  renewDeadlineSeconds: 8\n",
    );
    const message = errorOf(() => loadConfig({ file: path, env: { DARWIN_HTTP_PORT: "eighty" } }));
    expect(message).toContain(`workers (in ${path}): Too small`);
    expect(message).toMatch(/\(top level\).*Unrecognized key.*wrokers/);
    expect(message).toContain("leaderElection.renewDeadlineSeconds");
    expect(message).toContain("renewDeadlineSeconds must be less than leaseDurationSeconds");
    expect(message).toContain("http.port (from DARWIN_HTTP_PORT)");
  });

  it("rejects bad namespace names, and sections only an application adds", () => {
    const message = errorOf(() => parseConfig({ namespaces: ["Team_A"], webhook: { enabled: false } }));
    expect(message).toContain("namespaces.0: must be a namespace name");
    expect(message).toMatch(/\(top level\).*Unrecognized key.*webhook/);
  });

  it("says when the file is missing or not a mapping", () => {
    expect(errorOf(() => loadConfig({ file: "/nonexistent/operator.yaml", env: {} }))).toMatch(
      /could not be read/,
    );
    expect(errorOf(() => loadConfig({ file: file("- a\n- b\n"), env: {} }))).toMatch(/mapping/);
  });
});
