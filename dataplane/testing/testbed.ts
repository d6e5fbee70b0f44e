/**
 * Test support for the data-plane services on the testbed: a MariaDB database of their own per test file,
 * and tenants (a namespace's ServiceAccount, a Role granting it data-plane verbs, and a token for it).
 */
import mysql from "mysql2/promise";
import { z } from "zod";
import type { KubeClient } from "../../operator/kube-client.ts";
import { mysqlEndpoint } from "../../test-e2e/testbed/env.ts";
import { uniqueName } from "../../test-e2e/testbed/testbed-cli.ts";
import { createPool, type Pool } from "../shared/mysql.ts";

export interface TestDatabase {
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

/** A fresh database on the testbed's MariaDB, dropped by drop(). */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const endpoint = mysqlEndpoint();
  const name = uniqueName(prefix).toLowerCase();
  const admin = await mysql.createConnection(endpoint.url);
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  await admin.end();
  const url = endpoint.url.replace(/\/[^/]*$/, `/${name}`);
  const pool = createPool(url, 5);
  return {
    url,
    pool,
    drop: async () => {
      await pool.end();
      const connection = await mysql.createConnection(endpoint.url);
      await connection.query(`DROP DATABASE IF EXISTS ${name}`);
      await connection.end();
    },
  };
}

export interface Tenant {
  namespace: string;
  /** A token of the tenant's ServiceAccount in the namespace. */
  token: string;
}

/**
 * Makes `namespace` (created by the test's fixture, which also deletes it) a tenant: its ServiceAccount
 * `account` (default `client`) may do `verbs` on `resources` (group darwin.dreamhorizon.org).
 */
export async function grantTenant(
  client: KubeClient,
  namespace: string,
  grant: { resources: string[]; verbs: string[]; account?: string },
): Promise<Tenant> {
  const account = grant.account ?? "client";
  const create = (path: string, body: object) => client.request({ method: "POST", path, body });
  await create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: account },
  });
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "dataplane" },
    rules: [{ apiGroups: ["darwin.dreamhorizon.org"], resources: grant.resources, verbs: grant.verbs }],
  });
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "dataplane" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "dataplane" },
    subjects: [{ kind: "ServiceAccount", name: account, namespace }],
  });
  const answer = z.object({ status: z.object({ token: z.string() }) }).parse(
    await create(`/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 3600 },
    }),
  );
  return { namespace, token: answer.status.token };
}
