// @testbed control
/**
 * The kubeconfig loader against the testbed's apiserver, each way of authenticating proved by the identity
 * the apiserver sees (a SelfSubjectReview): the testbed's kubeconfig (token, CA data), a kubeconfig with
 * client certificate files beside it, an exec plugin, and a pod's service account directory.
 */
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireEnv } from "../test-e2e/support/testbed-env.ts";
import { KubeClient } from "./kube-client.ts";
import { type KubeAccess, loadKubeAccess } from "./kubeconfig.ts";
import { testbedClient, testbedEnv } from "./testing/testbed.ts";

const NAMESPACE = `operator-memory-kubeconfig-${process.pid}`;
const NO_DEFAULTS = { env: {}, home: "/nonexistent-home", serviceAccountDir: "/nonexistent-sa" };

let admin: KubeClient;
let dir: string;
const clients: KubeClient[] = [];

/** Who the apiserver says the access authenticates as. */
async function whoAmI(access: KubeAccess): Promise<string> {
  const client = new KubeClient(access, "darwin-kubeconfig-test");
  clients.push(client);
  const review = (await client.request({
    method: "POST",
    path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
    body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
  })) as { status: { userInfo: { username: string } } };
  return review.status.userInfo.username;
}

beforeAll(async () => {
  testbedEnv();
  admin = testbedClient("darwin-kubeconfig-test");
  dir = mkdtempSync(join(tmpdir(), "kubeconfig-int-"));
  await admin.request({
    method: "POST",
    path: "/api/v1/namespaces",
    body: { apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } },
  });
});

afterAll(async () => {
  for (const client of clients) client.close();
  await admin?.request({ method: "DELETE", path: `/api/v1/namespaces/${NAMESPACE}` }).catch(() => undefined);
  admin?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("loadKubeAccess against the testbed apiserver", () => {
  it("authenticates with the testbed's kubeconfig (token, CA data)", async () => {
    const access = loadKubeAccess({ ...NO_DEFAULTS, env: { KUBECONFIG: requireEnv("KUBECONFIG") } });
    await expect(whoAmI(access)).resolves.toBe("darwin-admin");
  });

  it("authenticates with client certificate files named relative to the kubeconfig", async () => {
    const pki = dirname(requireEnv("DARWIN_KUBE_CA_FILE"));
    mkdirSync(join(dir, "pki"));
    for (const file of ["ca.crt", "apiserver-kubelet-client.crt", "apiserver-kubelet-client.key"]) {
      copyFileSync(join(pki, file), join(dir, "pki", file));
    }
    const file = join(dir, "cert.kubeconfig");
    writeFileSync(
      file,
      `apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster: {server: "${requireEnv("DARWIN_KUBE_SERVER")}", certificate-authority: pki/ca.crt}
users:
- name: kubelet-client
  user: {client-certificate: pki/apiserver-kubelet-client.crt, client-key: pki/apiserver-kubelet-client.key}
contexts:
- name: cert
  context: {cluster: testbed, user: kubelet-client}
current-context: cert
`,
    );
    await expect(whoAmI(loadKubeAccess({ ...NO_DEFAULTS, kubeconfig: file }))).resolves.toBe(
      "kube-apiserver-kubelet-client",
    );
  });

  it("authenticates with the token an exec plugin prints", async () => {
    const plugin = join(dir, "get-token");
    writeFileSync(
      plugin,
      `#!/bin/sh
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$TESTBED_TOKEN"
`,
    );
    chmodSync(plugin, 0o755);
    const file = join(dir, "exec.kubeconfig");
    writeFileSync(
      file,
      JSON.stringify({
        clusters: [
          {
            name: "testbed",
            cluster: {
              server: requireEnv("DARWIN_KUBE_SERVER"),
              "certificate-authority": requireEnv("DARWIN_KUBE_CA_FILE"),
            },
          },
        ],
        users: [
          {
            name: "exec",
            user: {
              exec: {
                apiVersion: "client.authentication.k8s.io/v1",
                command: "./get-token",
                env: [{ name: "TESTBED_TOKEN", value: requireEnv("DARWIN_KUBE_TOKEN") }],
              },
            },
          },
        ],
        contexts: [{ name: "exec", context: { cluster: "testbed", user: "exec" } }],
        "current-context": "exec",
      }),
    );
    await expect(whoAmI(loadKubeAccess({ ...NO_DEFAULTS, kubeconfig: file }))).resolves.toBe("darwin-admin");
  });

  it("authenticates in a pod as its service account (token, CA and namespace files, KUBERNETES_SERVICE_*)", async () => {
    await admin.request({
      method: "POST",
      path: `/api/v1/namespaces/${NAMESPACE}/serviceaccounts`,
      body: { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "operator" } },
    });
    const { status } = (await admin.request({
      method: "POST",
      path: `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/operator/token`,
      body: {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: 600 },
      },
    })) as { status: { token: string } };
    const serviceAccountDir = join(dir, "serviceaccount");
    mkdirSync(serviceAccountDir);
    writeFileSync(join(serviceAccountDir, "token"), status.token);
    writeFileSync(join(serviceAccountDir, "namespace"), NAMESPACE);
    copyFileSync(requireEnv("DARWIN_KUBE_CA_FILE"), join(serviceAccountDir, "ca.crt"));
    const server = new URL(requireEnv("DARWIN_KUBE_SERVER"));
    const access = loadKubeAccess({
      env: { KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port },
      home: join(dir, "nobody"),
      serviceAccountDir,
    });
    expect(access.namespace).toBe(NAMESPACE);
    await expect(whoAmI(access)).resolves.toBe(`system:serviceaccount:${NAMESPACE}:operator`);
  });
});
