/**
 * hermes features load and training-set refuse bad flags before touching a store or a server, naming the
 * flag, with exit code 2.
 */
import { describe, expect, it } from "vitest";
import { runHermes } from "./program.ts";

async function hermes(args: string[], env: Record<string, string> = {}) {
  let stderr = "";
  const code = await runHermes(args, {
    stdout: { write: () => undefined },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: { HERMES_HOME: "/nonexistent-hermes-home", KUBECONFIG: "/nonexistent-kubeconfig", ...env },
  });
  return { code, stderr };
}

describe("hermes features refuses bad flags", () => {
  it.each([
    [["features", "load", "user_features"], "required option '--file <path|s3://bucket/key>' not specified"],
    [
      ["features", "load", "user_features", "--file", "http://x/y.parquet"],
      "--file must be a local path or s3://bucket/key",
    ],
    [
      ["features", "load", "user_features", "--file", "a.parquet", "--version", "0"],
      "--version must be a whole number from 1",
    ],
    [["features", "load", "--file", "a.parquet"], "missing required argument 'group'"],
    [
      ["features", "training-set", "--entities", "rows.json"],
      "required option '--features <list>' not specified",
    ],
    [
      ["features", "training-set", "--features", "user_features:age", "--entities", "ftp://x"],
      "--entities must be a local path or s3://",
    ],
    [
      ["features", "training-set", "--features", "user_features:age", "--entities", "rows.json"],
      "--feature-server: no feature server given; pass --feature-server <url>, export HERMES_FEATURE_SERVER_URL, or set spec.featureServerURL of the ServeEnvironment",
    ],
  ])("hermes %j", async (args, message) => {
    const result = await hermes(args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it("names an unreadable entities file", async () => {
    const result = await hermes(
      ["features", "training-set", "--features", "user_features:age", "--entities", "/nonexistent/rows.json"],
      { HERMES_FEATURE_SERVER_URL: "http://127.0.0.1:9" },
    );
    expect(result.stderr).toContain("--entities /nonexistent/rows.json: ENOENT");
    expect(result.code).toBe(2);
  });
});
