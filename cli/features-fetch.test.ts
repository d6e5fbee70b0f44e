/**
 * hermes features fetch: the seed's key lists are read, and bad values are refused before anything is
 * sent, naming the flag (exit 2). The answers of the real feature server are in features-fetch.int.test.ts.
 */
import { describe, expect, it } from "vitest";
import { freePort } from "../test-e2e/support/free-port.ts";
import { parseKeyValues, renderFetchTable } from "./features-fetch.ts";
import { runHermes } from "./program.ts";

async function hermes(args: string[], env: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = await runHermes(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: { HERMES_HOME: "/nonexistent-hermes-home", KUBECONFIG: "/nonexistent-kubeconfig", ...env },
  });
  return { code, stdout, stderr };
}

const FETCH = [
  "features",
  "fetch",
  "--feature-group-name",
  "user_features",
  "--feature-columns",
  "age,tenure",
  "--primary-key-names",
  "user_id",
];

describe("parseKeyValues", () => {
  it("reads the seed's list of keys, a flat JSON list and a comma list as one key column", () => {
    expect(parseKeyValues("[[123], [456]]")).toEqual([[123], [456]]);
    expect(parseKeyValues('[[1, "a"]]')).toEqual([[1, "a"]]);
    expect(parseKeyValues("[123, 456]")).toEqual([[123], [456]]);
    expect(parseKeyValues("123,456")).toEqual([[123], [456]]);
    expect(parseKeyValues("ab12,cd34")).toEqual([["ab12"], ["cd34"]]);
  });
});

describe("renderFetchTable", () => {
  it("prints one row per key, the key first, with NOT_FOUND and expired values named", () => {
    expect(
      renderFetchTable({
        feature_group_name: "user_features",
        version: 1,
        feature_columns: ["age", "tenure"],
        primary_key_names: ["user_id"],
        rows: [
          {
            primary_key_values: [123],
            values: [59, 7.575],
            statuses: ["PRESENT", "PRESENT"],
            event_timestamps: ["2026-11-27T09:27:05.000Z", "2026-11-27T09:27:05.000Z"],
          },
          {
            primary_key_values: [1000],
            values: [null, null],
            statuses: ["NOT_FOUND", "OUTSIDE_MAX_AGE"],
            event_timestamps: [null, "2026-11-27T09:27:05.000Z"],
          },
        ],
      }),
    ).toBe(
      "user_id   age           tenure\n123       59            7.575\n1000      <not found>   <expired>\n",
    );
  });
});

describe("hermes features fetch refuses bad flags", () => {
  it.each([
    [[...FETCH, "--primary-key-values", "[[123]"], "--primary-key-values is not valid JSON"],
    [[...FETCH, "--primary-key-values", "[[]]"], "--primary-key-values must be a list of keys"],
    [[...FETCH, "--primary-key-values", '{"user_id": 1}'], "--primary-key-values must be a list of keys"],
    [[...FETCH, "--primary-key-values", "[[true]]"], "--primary-key-values must be a list of keys"],
    [[...FETCH, "--primary-key-values", "1", "--version", "0"], "--version must be a whole number from 1"],
    [[...FETCH, "--primary-key-values", "1", "-o", "csv"], "Allowed choices are table, json"],
    [
      ["features", "fetch", "--feature-group-name", "g", "--feature-columns", "a,,b"],
      "--feature-columns takes names separated by commas",
    ],
    [FETCH, "required option '--primary-key-values <json>' not specified"],
    [
      [...FETCH, "--primary-key-values", "1", "--feature-server", "feature-server:8080"],
      '--feature-server: "feature-server:8080" is not an http(s) URL',
    ],
  ])("%j", async (args, message) => {
    const result = await hermes(args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it("names where the feature server comes from when none is given", async () => {
    const result = await hermes([...FETCH, "--primary-key-values", "1"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "error: --feature-server: no feature server given; pass --feature-server <url>, export HERMES_FEATURE_SERVER_URL, or set spec.featureServerURL of the ServeEnvironment\n",
    );
  });

  it("says which server did not answer (exit 4)", async () => {
    const url = `http://127.0.0.1:${await freePort()}`;
    const result = await hermes([...FETCH, "--primary-key-values", "1"], { HERMES_FEATURE_SERVER_URL: url });
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      `error: the feature server at ${url} did not answer (ECONNREFUSED); check --feature-server\n`,
    );
  });

  it("has an example", async () => {
    const result = await hermes(["features", "fetch", "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Example:\n {2}hermes features fetch --feature-group-name user_features/);
  });
});
