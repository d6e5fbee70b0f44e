/**
 * Helpers for the feature store's integration tests: the stores' configuration from the testbed's
 * endpoints, the FeatureGroup controller running in this process, the seed's sample group, and direct
 * clients for checking what the controller made.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Client as CassandraClient } from "cassandra-driver";
import { parse as parseYaml } from "yaml";
import { cassandraClient } from "../../controllers/feature-group/cassandra.ts";
import { featureStoreConfig } from "../../controllers/feature-group/config.ts";
import { keyspaceName, namespaceTopicPrefix, tableName } from "../../controllers/feature-group/names.ts";
import { createFeatureGroupController, FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import {
  type FeatureStoreConfig,
  FeatureStores,
  SCHEMA_HISTORY_TABLE,
} from "../../controllers/feature-group/stores.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { loadKubeAccess } from "../../operator/kubeconfig.ts";
import type { KubeObject } from "../../operator/resource.ts";
import {
  getObject,
  REPO,
  startManager,
  type TestManager,
  testConfig,
  waitFor,
} from "../../operator/testing/testbed.ts";
import { cassandraEndpoint, kafkaEndpoint, mysqlEndpoint } from "../testbed/env.ts";
import { kubectlOk } from "./kubectl.ts";

/** The testbed's stores, as the operator configuration's featureStore section. */
export function testStoreConfig(): FeatureStoreConfig {
  const cassandra = cassandraEndpoint();
  return featureStoreConfig.parse({
    cassandra: { contactPoints: [cassandra.contactPoint], localDataCenter: cassandra.localDataCenter },
    kafka: { brokers: kafkaEndpoint().brokers },
    mysqlUrl: mysqlEndpoint().url,
  });
}

/** A Cassandra client on the testbed, for checking tables and writing rows as a writer would. */
export const testCassandra = () => cassandraClient(testStoreConfig().cassandra);

/** Writes a row as a writer does: the event time is the row's event_time and every value's write time. */
export async function writeFeatureRow(
  cassandra: CassandraClient,
  namespace: string,
  group: string,
  version: number,
  values: Record<string, unknown>,
  eventTime: Date,
): Promise<void> {
  const columns = [...Object.keys(values), "event_time"];
  const cql = `INSERT INTO "${keyspaceName(namespace)}"."${tableName(group, version)}" (${columns
    .map((c) => `"${c}"`)
    .join(", ")}) VALUES (${columns.map(() => "?").join(", ")}) USING TIMESTAMP ?`;
  await cassandra.execute(cql, [...Object.values(values), eventTime, BigInt(eventTime.getTime()) * 1000n], {
    prepare: true,
  });
}

/**
 * The FeatureGroup controller in this process, watching `namespaces`; retries back off to 2 s at most and
 * Ready groups are checked again every 2 s.
 */
export async function startFeatureGroupOperator(...namespaces: string[]): Promise<TestManager> {
  const controller = createFeatureGroupController({ stores: testStoreConfig(), recheckAfterMs: 2000 });
  const manager = await startManager(
    [controller],
    testConfig(namespaces[0] ?? "default", {
      namespaces,
      queue: { baseBackoffMs: 50, maxBackoffSeconds: 2 },
    }),
  );
  return {
    ...manager,
    stop: async () => {
      await manager.stop();
      await controller.close();
    },
  };
}

/** The seed's sample FeatureGroup (user-features), in `namespace`, with `spec` changes. */
export function sampleFeatureGroup(namespace: string, spec: Record<string, unknown> = {}): KubeObject {
  const file = join(REPO, "samples", "darwin.dreamhorizon.org_v1alpha1_featuregroup.yaml");
  const sample = parseYaml(readFileSync(file, "utf8")) as KubeObject;
  return {
    ...sample,
    metadata: { ...sample.metadata, namespace },
    spec: { ...(sample.spec as object), ...spec },
  };
}

export interface GroupStatus {
  keyspace?: string;
  table?: string;
  topic?: string;
  schemaHash?: string;
  servedVersions?: number[];
  observedGeneration?: number;
  conditions?: Parameters<typeof findCondition>[0];
}

export async function groupStatus(client: KubeClient, namespace: string, name: string): Promise<GroupStatus> {
  return ((await getObject(client, FEATURE_GROUPS, namespace, name))?.status ?? {}) as GroupStatus;
}

/**
 * Re-installs this checkout's FeatureGroup CRD when the live one lacks `status.servedVersions`: on the
 * shared testbed another checkout's test run may have applied an older CRD, whose schema would prune the
 * fields the controller writes.
 */
export async function ensureOwnCrd(client: KubeClient): Promise<void> {
  const crd = (await client.request({
    method: "GET",
    path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/featuregroups.darwin.dreamhorizon.org",
  })) as {
    spec: {
      versions: Array<{ schema: { openAPIV3Schema: { properties: { status: { properties: object } } } } }>;
    };
  };
  const status = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.status.properties ?? {};
  if (!("servedVersions" in status)) {
    const file = join(REPO, "crds", "darwin.dreamhorizon.org_featuregroups.yaml");
    await kubectlOk(["apply", "--server-side", "--force-conflicts", "-f", file]);
  }
}

/** Waits until the group's Ready condition has `status` for its current generation; returns its status. */
export async function waitForReady(
  client: KubeClient,
  namespace: string,
  name: string,
  status: "True" | "False" = "True",
  timeoutMs = 120_000,
): Promise<GroupStatus> {
  return waitFor(
    `FeatureGroup ${namespace}/${name} Ready=${status}`,
    async () => {
      await ensureOwnCrd(client);
      const object = await getObject(client, FEATURE_GROUPS, namespace, name);
      const s = (object?.status ?? {}) as GroupStatus;
      const ready = findCondition(s.conditions, "Ready");
      return ready?.status === status && s.observedGeneration === object?.metadata.generation ? s : undefined;
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** Drops what a test namespace left in the stores: its keyspace, its topics, its schema history rows. */
export async function dropTestStores(namespace: string): Promise<void> {
  const stores = new FeatureStores(testStoreConfig());
  try {
    await stores.cql(`DROP KEYSPACE IF EXISTS "${keyspaceName(namespace)}"`);
    await stores.deleteTopics(await stores.topicsWithPrefix(namespaceTopicPrefix(namespace)));
    await stores.mysql.execute(`DELETE FROM ${SCHEMA_HISTORY_TABLE} WHERE namespace = ?`, [namespace]);
  } finally {
    await stores.close();
  }
}

/** The testbed admin's bearer token (system:masters), from the testbed's kubeconfig. */
export function adminToken(): string {
  const { token } = loadKubeAccess({ kubeconfig: process.env.KUBECONFIG });
  return token?.type === "static" ? token.token : "";
}
