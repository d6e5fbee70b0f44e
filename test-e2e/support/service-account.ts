/** Tests that run a component as a service account: a kubeconfig for the testbed apiserver with its token. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseYaml, stringify } from "yaml";
import type { KubeClient } from "../../operator/kube-client.ts";

/**
 * Writes `<dir>/<account>.kubeconfig`: the testbed kubeconfig's cluster, authenticated with a TokenRequest
 * token (1 h) of the existing service account `account` in `namespace`. Returns its path.
 */
export async function serviceAccountKubeconfig(
  admin: KubeClient,
  namespace: string,
  account: string,
  dir: string,
): Promise<string> {
  const response = (await admin.request({
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/serviceaccounts/${account}/token`,
    body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
  })) as { status: { token: string } };
  const adminConfig = parseYaml(readFileSync(process.env.KUBECONFIG ?? "", "utf8")) as {
    clusters: Array<{ name: string; cluster: Record<string, unknown> }>;
  };
  const cluster = adminConfig.clusters[0];
  if (!cluster) throw new Error("the testbed kubeconfig names no cluster");
  const file = join(dir, `${account}.kubeconfig`);
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [cluster],
      users: [{ name: account, user: { token: response.status.token } }],
      contexts: [{ name: account, context: { cluster: cluster.name, user: account } }],
      "current-context": account,
    }),
    { mode: 0o600 },
  );
  return file;
}
