// @testbed control data
/**
 * `hermes features fetch` against the real feature server: the FeatureGroup controller makes the seed's
 * user-features table in the testbed's Cassandra, rows are written as writers write them, the feature
 * server listens on a local port, and the hermes command is run as a user runs it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client as CassandraClient } from "cassandra-driver";
import { beforeAll, describe, expect, it } from "vitest";
import { FEATURE_GROUPS } from "../controllers/feature-group/reconciler.ts";
import { hermes, hermesOk } from "../controllers/serve/testing/hermes.ts";
import { featureServerConfig } from "../dataplane/feature-server/config.ts";
import { type RunningFeatureServer, startFeatureServer } from "../dataplane/feature-server/server.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { createObject, testbedClient, testLogger } from "../operator/testing/testbed.ts";
import {
  dropTestStores,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  testStoreConfig,
  waitForReady,
  writeFeatureRow,
} from "../test-e2e/support/feature-store.ts";
import { useTestbed } from "../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../test-e2e/support/kubectl.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `features-fetch-${RUN}`;

let client: KubeClient;
let namespace: string;
let server: RunningFeatureServer;
let cassandra: CassandraClient;
let url: string;
let home: string;

/** The seed's fetch_features(feature_group_name, feature_columns, primary_key_names, primary_key_values). */
const seedCall = (keys = "[[123], [456], [1000]]", ...extra: string[]) => [
  "features",
  "fetch",
  "--feature-group-name",
  "user_features",
  "--feature-columns",
  "age,tenure,activity_score",
  "--primary-key-names",
  "user_id",
  "--primary-key-values",
  keys,
  "--space",
  namespace,
  ...extra,
];

const tb = useTestbed({ namespace: "features-fetch", cleanup: [FEATURE_GROUPS] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  home = mkdtempSync(join(tmpdir(), "hermes-"));
  tb.defer(() => kubectl(["delete", "serveenvironment", ENV, "--ignore-not-found", "--wait=false"]));
  tb.defer(() => dropTestStores(namespace));
  cassandra = testCassandra();
  tb.defer(() => cassandra.shutdown());
  const operator = await startFeatureGroupOperator(namespace);
  tb.defer(() => operator.stop());
  server = await startFeatureServer({
    config: featureServerConfig.parse({ authCacheSeconds: 1, cassandra: testStoreConfig().cassandra }),
    client: testbedClient("darwin-feature-server"),
    log: testLogger(),
  });
  tb.defer(async () => {
    await server.app.close();
    await server.close();
  });
  url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  await server.informer.waitForSync();
  await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(namespace, { ttlSeconds: 0 }));
  await waitForReady(client, namespace, "user-features");
  const rows = [
    { user_id: 123n, age: 59, tenure: 7.575, activity_score: 0.75088 },
    { user_id: 456n, age: 52, tenure: 4.325, activity_score: 0.014841 },
  ];
  for (const row of rows)
    await writeFeatureRow(cassandra, namespace, "user-features", 1, row, new Date("2026-11-27T09:27:05Z"));
}, 180_000);

describe("hermes features fetch", () => {
  it("prints the seed's fetch_features call as a table, one row per key, an unknown key as not found", async () => {
    const stdout = await hermesOk(seedCall(undefined, "--feature-server", url), home);
    expect(stdout).toBe(
      [
        "user_id   age           tenure        activity_score",
        "123       59            7.575         0.75088",
        "456       52            4.325         0.014841",
        "1000      <not found>   <not found>   <not found>",
        "",
      ].join("\n"),
    );
  });

  it("prints the feature server's answer with -o json, keys given as a comma list", async () => {
    const stdout = await hermesOk(seedCall("123", "--feature-server", url, "-o", "json"), home);
    expect(JSON.parse(stdout)).toEqual({
      feature_group_name: "user_features",
      version: 1,
      feature_columns: ["age", "tenure", "activity_score"],
      primary_key_names: ["user_id"],
      rows: [
        {
          primary_key_values: [123],
          values: [59, 7.575, 0.75088],
          statuses: ["PRESENT", "PRESENT", "PRESENT"],
          event_timestamps: Array(3).fill("2026-11-27T09:27:05.000Z"),
        },
      ],
    });
  });

  it("finds the feature server in the ServeEnvironment when no URL is given", async () => {
    await kubectlOk(["apply", "-f", "-"], {
      apiVersion: "darwin.dreamhorizon.org/v1alpha1",
      kind: "ServeEnvironment",
      metadata: { name: ENV },
      spec: { domainSuffix: ".local", namespace, featureServerURL: url },
    });
    const stdout = await hermesOk(seedCall("[[456]]", "--env", ENV), home);
    expect(stdout).toContain("456       52    4.325    0.014841");
  });

  it.each([
    [
      "an unknown group",
      ["--feature-group-name", "no_such_group"],
      '--feature-group-name: GROUP_NOT_FOUND: feature group "no_such_group" does not exist in namespace',
    ],
    ["an unknown feature", ["--feature-columns", "height"], "--feature-columns: UNKNOWN_COLUMN:"],
    [
      "a key of the wrong type",
      ["--primary-key-values", '[["abc"]]'],
      "--primary-key-values: WRONG_KEY_TYPE:",
    ],
    ["a key of two values", ["--primary-key-values", "[[1, 2]]"], "--primary-key-values: WRONG_KEY_LENGTH:"],
    ["a version the group never had", ["--version", "7"], "--version: VERSION_NOT_SERVED:"],
  ])("refuses %s naming the flag (exit 2)", async (_what, change, message) => {
    const args = seedCall(undefined, "--feature-server", url);
    for (let i = 0; i < change.length; i += 2) {
      const at = args.indexOf(change[i] as string);
      if (at >= 0) args[at + 1] = change[i + 1] as string;
      else args.push(change[i] as string, change[i + 1] as string);
    }
    const result = await hermes(args, home);
    expect(result.stderr).toContain(`error: ${message}`);
    expect(result.code).toBe(2);
  });

  it("says the token was refused when hermes's token is not a Kubernetes token (exit 2)", async () => {
    // A kubeconfig that names only the server: hermes's own token is the one sent.
    const kubeconfig = join(home, "server-only.kubeconfig");
    const view = JSON.parse(await kubectlOk(["config", "view", "--minify", "--raw", "-o", "json"]));
    const apiserver = view.clusters[0].cluster.server as string;
    writeFileSync(
      kubeconfig,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: apiserver, "insecure-skip-tls-verify": true } }],
        users: [{ name: "u", user: {} }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const result = await hermes(seedCall(undefined, "--feature-server", url), home, {
      KUBECONFIG: kubeconfig,
      HERMES_USER_TOKEN: "not-a-kubernetes-token",
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: the feature server refused the token \(UNAUTHENTICATED: /);
  });
});
