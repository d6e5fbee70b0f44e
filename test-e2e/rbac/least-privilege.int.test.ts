// @testbed cluster
/**
 * The operator runs with exactly the committed RBAC (config/rbac/, checked against the declarations by
 * `npm run gen:rbac -- --check`): as a ServiceAccount bound only to those roles, the DarwinCluster flow
 * works on the cluster tier; with one verb taken away, the object's Ready condition says which request was
 * forbidden, and giving the verb back lets the retried reconcile pass.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { RBAC_DIR } from "../../cmd/rbac.ts";
import { runtimeObject } from "../../controllers/darwin-cluster/fixtures.ts";
import {
  createDarwinClusterController,
  DARWIN_CLUSTERS,
} from "../../controllers/darwin-cluster/reconciler.ts";
import { RAY_CLUSTERS } from "../../controllers/shared/resource-types.ts";
import { findCondition } from "../../operator/conditions.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { PolicyRule } from "../../operator/rbac.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../support/fixture.ts";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { serviceAccountKubeconfig } from "../support/service-account.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const RUNTIME = `layers-rbac-ray-${RUN}`;
const ACCOUNT = "operator";
const SLOW = { timeoutMs: 90_000, intervalMs: 250 };

const tb = useTestbed({ namespace: "layers-rbac", cleanup: [DARWIN_CLUSTERS] });
let admin: KubeClient;
let namespace: string;
let clusterRoleName: string;
let workDir: string;

/** The committed roles of the operator itself (not the webhook's: webhooks are off here). */
function committedRoles(): KubeObject[] {
  const files = ["darwin-operator.yaml", "darwin-operator-leader-election.yaml"];
  return files
    .flatMap((file) => parseAllDocuments(readFileSync(join(RBAC_DIR, file), "utf8")))
    .map((doc) => doc.toJS() as KubeObject);
}

/**
 * The committed objects, made this test's own: the ClusterRole and its binding renamed, the Lease's Role
 * moved into the test namespace, every binding naming the test's service account.
 */
function ownCopies(objects: KubeObject[]): KubeObject[] {
  return objects.map((object) => {
    const cluster = object.kind.startsWith("Cluster");
    const name = cluster ? clusterRoleName : object.metadata.name;
    const copy: KubeObject & { roleRef?: { name: string }; subjects?: unknown[] } = {
      ...object,
      metadata: { name, ...(!cluster && { namespace }), labels: { "darwin.dreamhorizon.org/test": "rbac" } },
    };
    if (object.kind.endsWith("Binding")) {
      copy.roleRef = { ...(object.roleRef as { name: string }), name };
      copy.subjects = [{ kind: "ServiceAccount", name: ACCOUNT, namespace }];
    }
    return copy;
  });
}

function darwinCluster(name: string): KubeObject {
  return {
    apiVersion: DARWIN_CLUSTERS.apiVersion,
    kind: DARWIN_CLUSTERS.kind,
    metadata: { name, namespace },
    spec: {
      runtime: RUNTIME,
      owner: "ana@example.com",
      head: { cores: 1, memory: "2Gi" },
      workerGroups: [{ name: "spot", cores: 1, memory: 2, minPods: 1, maxPods: 1, capacity: "spot" }],
      jupyter: { enabled: false },
    },
  };
}

async function readyOf(name: string) {
  const object = await getObject(admin, DARWIN_CLUSTERS, namespace, name);
  const status = object?.status as { conditions?: Parameters<typeof findCondition>[0] } | undefined;
  return findCondition(status?.conditions, "Ready");
}

/** Sets the verbs of the ClusterRole's rule for `resource`. */
async function setVerbs(resource: string, edit: (verbs: string[]) => string[]): Promise<void> {
  const role = (await admin.request({
    method: "GET",
    path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRoleName}`,
  })) as KubeObject & { rules: PolicyRule[] };
  const rules = role.rules.map((rule) =>
    rule.resources.includes(resource) && !rule.resourceNames ? { ...rule, verbs: edit(rule.verbs) } : rule,
  );
  await admin.request({
    method: "PUT",
    path: `/apis/rbac.authorization.k8s.io/v1/clusterroles/${clusterRoleName}`,
    body: { ...role, rules },
  });
}

beforeAll(async () => {
  admin = tb.client;
  namespace = tb.namespace;
  clusterRoleName = `${namespace}-darwin-operator`;
  workDir = mkdtempSync(join(tmpdir(), "layers-rbac-"));
  tb.defer(async () => {
    rmSync(workDir, { recursive: true, force: true });
    await kubectl(["delete", "clusterrole,clusterrolebinding", clusterRoleName, "--ignore-not-found"]);
    await kubectl(["delete", "darwinruntime", RUNTIME, "--ignore-not-found", "--wait=false"]);
  });
  await kubectlOk(["apply", "-f", "-"], runtimeObject(RUNTIME));
  await kubectlOk(["create", "serviceaccount", ACCOUNT, "-n", namespace]);
  for (const object of ownCopies(committedRoles())) await kubectlOk(["apply", "-f", "-"], object);
  const kubeconfig = await serviceAccountKubeconfig(admin, namespace, ACCOUNT, workDir);
  await tb.startOperator(
    [createDarwinClusterController()],
    { leaderElection: { enabled: true, namespace } },
    { kubeconfig },
  );
});

describe("the operator with only its generated roles", () => {
  it("creates the RayCluster and reports the DarwinCluster Ready", async () => {
    await kubectlOk(["apply", "-f", "-"], darwinCluster("allowed"));
    await waitFor(
      "DarwinCluster allowed Ready",
      async () => (await readyOf("allowed"))?.status === "True",
      SLOW,
    );
    const rayCluster = await getObject(admin, RAY_CLUSTERS, namespace, "allowed");
    expect(rayCluster?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: "DarwinCluster",
      name: "allowed",
    });
    // The Lease was taken with the Role in its namespace.
    const lease = await kubectlOk(["get", "lease", "darwin-operator", "-n", namespace, "-o", "name"]);
    expect(lease.trim()).toBe("lease.coordination.k8s.io/darwin-operator");
  });

  it("says in Ready which verb on which resource is forbidden, and recovers once it is granted", async () => {
    await setVerbs("rayclusters", (verbs) => verbs.filter((verb) => verb !== "create"));
    await kubectlOk(["apply", "-f", "-"], darwinCluster("denied"));
    const ready = await waitFor(
      "Ready=False Forbidden",
      async () => {
        const condition = await readyOf("denied");
        return condition?.reason === "Forbidden" ? condition : undefined;
      },
      SLOW,
    );
    expect(ready.status).toBe("False");
    expect(ready.message).toContain(`may not create rayclusters.ray.io in namespace ${namespace}`);

    await setVerbs("rayclusters", (verbs) => [...verbs, "create"]);
    await waitFor(
      "DarwinCluster denied Ready",
      async () => (await readyOf("denied"))?.status === "True",
      SLOW,
    );
  });
});
