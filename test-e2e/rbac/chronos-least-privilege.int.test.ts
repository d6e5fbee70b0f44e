// @testbed control data
/**
 * Chronos runs with exactly its committed RBAC (config/rbac/darwin-chronos.yaml and
 * darwin-chronos-processor.yaml, generated from dataplane/shared/rbac.ts): the API, as a service account
 * bound only to its role, checks a tenant's token and permission and takes the event; the processor, bound
 * only to its own, applies the tenant's rule and writes the rule's status. An API whose account has no
 * role cannot check anyone and answers 503, never a 2xx.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { RBAC_DIR } from "../../cmd/rbac.ts";
import { buildChronosService } from "../../dataplane/chronos/service.ts";
import { startChronos, type TestChronos } from "../../dataplane/testing/chronos.ts";
import { sampleObject } from "../../dataplane/testing/samples.ts";
import { grantTenant, type Tenant } from "../../dataplane/testing/testbed.ts";
import { KubeAuth, type Service } from "../../operator/http/index.ts";
import { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { CHRONOS, createObject, getObject, testLogger, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { serviceAccountKubeconfig } from "../support/service-account.ts";

const tb = useTestbed({ namespace: "events-rbac" });
let admin: KubeClient;
let tenant: Tenant;
let chronos: TestChronos;
let workDir: string;

/** The committed ClusterRole of a service, renamed for this test, bound to `account` in the tenant's namespace. */
async function bindCommittedRole(service: string, account: string): Promise<void> {
  const docs = parseAllDocuments(readFileSync(join(RBAC_DIR, `darwin-${service}.yaml`), "utf8")).map(
    (doc) => doc.toJS() as KubeObject & { rules?: unknown[] },
  );
  const role = docs.find((d) => d.kind === "ClusterRole");
  if (!role) throw new Error(`no ClusterRole for ${service}`);
  const name = `${tenant.namespace}-${service}`;
  tb.defer(() => kubectl(["delete", "clusterrole,clusterrolebinding", name, "--ignore-not-found"]));
  await kubectlOk(["apply", "-f", "-"], { ...role, metadata: { name } });
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name: account, namespace: tenant.namespace }],
  });
}

/** A client of the testbed apiserver authenticating as a service account of the tenant's namespace. */
async function clientAs(account: string): Promise<KubeClient> {
  await kubectlOk(["create", "serviceaccount", account, "-n", tenant.namespace]);
  const file = await serviceAccountKubeconfig(admin, tenant.namespace, account, workDir);
  const client = KubeClient.load({ kubeconfig: file, userAgent: `darwin-${account}` });
  tb.defer(() => client.close());
  return client;
}

const postEvent = (app: Service, id: string) =>
  app.inject({
    method: "POST",
    url: "/chronos/api/v1/event",
    headers: { authorization: `Bearer ${tenant.token}` },
    payload: {
      id,
      source: "darwin-compute",
      type: "cluster_created",
      payload: { cluster_id: "c1", user: "ana@example.com", phase: "Creating" },
    },
  });

beforeAll(async () => {
  admin = tb.client;
  workDir = mkdtempSync(join(tmpdir(), "chronos-rbac-"));
  tb.defer(() => rmSync(workDir, { recursive: true, force: true }));
  tenant = await grantTenant(admin, tb.namespace, {
    resources: ["chronosevents"],
    verbs: ["create", "get", "list"],
  });
  await bindCommittedRole("chronos", "chronos");
  await bindCommittedRole("chronos-processor", "chronos-processor");
  const api = await clientAs("chronos");
  const processor = await clientAs("chronos-processor");
  const sample = sampleObject("chronostransformer", "cluster-lifecycle");
  await createObject(admin, CHRONOS, {
    ...sample,
    metadata: { ...sample.metadata, namespace: tenant.namespace },
  });
  chronos = await startChronos(admin, tenant.namespace, { api, processor });
  tb.defer(() => chronos.stop());
}, 120_000);

describe("Chronos with only its generated roles", () => {
  it("takes a tenant's event, and the processor applies the tenant's rule and writes its status", async () => {
    const answer = await postEvent(chronos.app, "rbac-1");
    expect(answer.statusCode, answer.body).toBe(202);
    const status = await waitFor(
      "the rule's status counting the event",
      async () => {
        const rule = await getObject(admin, CHRONOS, tenant.namespace, "cluster-lifecycle");
        const s = rule?.status as { processed?: number; failed?: number } | undefined;
        return s?.processed === 1 && s;
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    expect(status.failed).toBe(0);
  });

  it("cannot check a client without its role: 503, nothing taken", async () => {
    const unbound = await clientAs("chronos-unbound");
    const app = await buildChronosService({
      pool: chronos.db.pool,
      publisher: {
        publish: async () => {
          throw new Error("published an event no one checked");
        },
      },
      auth: new KubeAuth({ client: unbound }),
      logger: testLogger(),
      registry: new Registry(),
    });
    try {
      const answer = await postEvent(app, "rbac-2");
      expect(answer.statusCode, answer.body).toBe(503);
      expect(answer.body).toContain("tokenreviews");
    } finally {
      await app.close();
    }
  });
});
