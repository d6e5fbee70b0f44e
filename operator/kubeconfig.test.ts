/**
 * The kubeconfig loader on kubeconfigs as the testbed and kubectl write them (token and CA data; client
 * certificate files beside the kubeconfig; several files in $KUBECONFIG), the pod's service account, token
 * files and exec plugins run as real processes. The loader against the testbed's apiserver is in
 * kubeconfig.int.test.ts.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { KubeClient } from "./kube-client.ts";
import { bearerToken, hasCredentials, loadKubeAccess } from "./kubeconfig.ts";

const CA = "-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN EC PRIVATE KEY-----\nkey\n-----END EC PRIVATE KEY-----\n";
const b64 = (text: string) => Buffer.from(text).toString("base64");

/** What hack/components/kube.sh's kube_write_kubeconfig writes for a user with a token. */
const TESTBED_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: darwin-testbed
  cluster:
    server: https://127.0.0.1:26503/
    certificate-authority-data: ${b64(CA)}
users:
- name: darwin-admin
  user:
    token: e9efb71b0572763c913f76b8d1e4899502ff09e6
contexts:
- name: darwin-testbed
  context:
    cluster: darwin-testbed
    user: darwin-admin
current-context: darwin-testbed
`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "kubeconfig-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

const NO_DEFAULTS = { home: "/nonexistent-home", serviceAccountDir: "/nonexistent-sa" };

describe("loadKubeAccess from a kubeconfig", () => {
  it("reads the testbed's kubeconfig: server without trailing slash, CA from data, the user's token", () => {
    const file = write("kubeconfig", TESTBED_KUBECONFIG);
    const access = loadKubeAccess({ kubeconfig: file, env: {}, ...NO_DEFAULTS });
    expect(access.server).toBe("https://127.0.0.1:26503");
    expect(access.tls?.ca?.toString()).toBe(CA);
    expect(access.tls?.cert).toBeUndefined();
    expect(access.token).toEqual({ type: "static", token: "e9efb71b0572763c913f76b8d1e4899502ff09e6" });
    expect(hasCredentials(access)).toBe(true);
  });

  it("reads client certificate files relative to the kubeconfig's directory, as kubectl does", () => {
    write("certs/ca.crt", CA);
    write("certs/node.crt", CERT);
    write("certs/node.key", KEY);
    const file = write(
      "kubelet.kubeconfig",
      `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://10.0.0.1:6443", certificate-authority: certs/ca.crt, tls-server-name: kubernetes}
users:
- name: node
  user: {client-certificate: certs/node.crt, client-key: ${join(dir, "certs/node.key")}}
contexts:
- name: node
  context: {cluster: c, user: node, namespace: kube-system}
current-context: node
`,
    );
    const access = loadKubeAccess({ kubeconfig: file, env: {}, ...NO_DEFAULTS });
    expect(access.tls?.ca?.toString()).toBe(CA);
    expect(access.tls?.cert?.toString()).toBe(CERT);
    expect(access.tls?.key?.toString()).toBe(KEY);
    expect(access.tls?.serverName).toBe("kubernetes");
    expect(access.token).toBeUndefined();
    expect(access.namespace).toBe("kube-system");
    expect(hasCredentials(access)).toBe(true);
  });

  it("merges $KUBECONFIG's files (the first that names an entry wins, missing files are skipped) and takes a context by name", () => {
    const first = write(
      "a",
      `clusters: [{name: prod, cluster: {server: "https://prod:6443"}}]
users: [{name: me, user: {token: from-a}}]
contexts: [{name: prod, context: {cluster: prod, user: me}}]
current-context: prod
`,
    );
    const second = write(
      "b",
      `clusters: [{name: dev, cluster: {server: "http://dev:8080", insecure-skip-tls-verify: true}}]
users: [{name: me, user: {token: from-b}}]
contexts: [{name: dev, context: {cluster: dev, user: me}}]
current-context: dev
`,
    );
    const env = { KUBECONFIG: [first, join(dir, "missing"), second].join(":") };
    expect(loadKubeAccess({ env, ...NO_DEFAULTS })).toMatchObject({
      server: "https://prod:6443",
      token: { type: "static", token: "from-a" },
    });
    expect(loadKubeAccess({ env, context: "dev", ...NO_DEFAULTS })).toMatchObject({
      server: "http://dev:8080",
      tls: { insecureSkipVerify: true },
      token: { type: "static", token: "from-a" },
    });
  });

  it("falls back to ~/.kube/config, then the pod's service account", () => {
    write("home/.kube/config", TESTBED_KUBECONFIG);
    expect(loadKubeAccess({ env: {}, home: join(dir, "home") }).server).toBe("https://127.0.0.1:26503");

    const sa = join(dir, "serviceaccount");
    write("serviceaccount/token", "sa-token\n");
    write("serviceaccount/ca.crt", CA);
    write("serviceaccount/namespace", "darwin-system");
    const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "443" };
    const access = loadKubeAccess({ env, home: join(dir, "nobody"), serviceAccountDir: sa });
    expect(access).toEqual({
      server: "https://[fd00::1]:443",
      tls: { ca: Buffer.from(CA) },
      token: { type: "file", path: join(sa, "token") },
      namespace: "darwin-system",
    });
  });

  it("says where to put a configuration when there is none", () => {
    expect(() => loadKubeAccess({ env: {}, ...NO_DEFAULTS })).toThrow(
      /no Kubernetes configuration: pass --kubeconfig, set \$KUBECONFIG/,
    );
  });

  it.each([
    ["a missing file", undefined, /could not read kubeconfig .*nope/],
    ["no current context", "clusters: []\n", /sets no current-context: name one with --context/],
    ["a file that is not YAML", "clusters: [\n", /kubeconfig .* is not YAML/],
    [
      "a context naming an undefined cluster",
      "contexts: [{name: x, context: {cluster: gone}}]\ncurrent-context: x\n",
      /context "x" names cluster "gone", which it does not define/,
    ],
    [
      "a cluster without a server",
      "clusters: [{name: c, cluster: {}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n",
      /clusters\.0\.cluster\.server/,
    ],
    [
      "basic authentication",
      "clusters: [{name: c, cluster: {server: 'https://c'}}]\nusers: [{name: u, user: {username: a, password: b}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
      /user "u": username\/password \(basic authentication\) is not supported/,
    ],
    [
      "an auth-provider",
      "clusters: [{name: c, cluster: {server: 'https://c'}}]\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n",
      /auth-provider plugins are not supported .* use the provider's exec plugin/,
    ],
    [
      "a proxy",
      "clusters: [{name: c, cluster: {server: 'https://c', proxy-url: 'http://proxy:3128'}}]\ncontexts: [{name: x, context: {cluster: c}}]\ncurrent-context: x\n",
      /cluster "c": proxy-url is not supported/,
    ],
  ])("refuses %s with an error naming the field", (_case, text, message) => {
    const file = text === undefined ? join(dir, "nope") : write("kubeconfig", text);
    expect(() => loadKubeAccess({ kubeconfig: file, env: {}, ...NO_DEFAULTS })).toThrow(message);
  });
});

describe("bearerToken", () => {
  it("re-reads a token file once a minute: a rotated service account token is picked up", async () => {
    const path = write("token", "first\n");
    let now = 0;
    const token = bearerToken({ type: "file", path }, () => now);
    await expect(token()).resolves.toBe("first");
    writeFileSync(path, "second\n");
    now = 59_000;
    await expect(token()).resolves.toBe("first");
    now = 60_000;
    await expect(token()).resolves.toBe("second");
  });

  it("runs an exec plugin with its env and KUBERNETES_EXEC_INFO, once until the credential expires", async () => {
    const runs = join(dir, "runs");
    writeFileSync(runs, "");
    const plugin = write(
      "bin/get-token",
      `#!/bin/sh
echo run >> "${runs}"
cat <<EOF
{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
 "status":{"token":"$TOKEN_PREFIX-$1-$(echo "$KUBERNETES_EXEC_INFO" | grep -c '"interactive":false')","expirationTimestamp":"1970-01-01T00:01:40Z"}}
EOF
`,
    );
    chmodSync(plugin, 0o755);
    const file = write(
      "kubeconfig",
      `clusters: [{name: c, cluster: {server: "https://eks:443"}}]
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./bin/get-token
      args: [cluster-a]
      env: [{name: TOKEN_PREFIX, value: k8s-aws-v1}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`,
    );
    const access = loadKubeAccess({ kubeconfig: file, env: {}, ...NO_DEFAULTS });
    expect(hasCredentials(access)).toBe(true);
    if (access.token === undefined) throw new Error("no token source");
    let now = 0;
    const token = bearerToken(access.token, () => now);
    // Concurrent first callers share one run.
    await expect(Promise.all([token(), token()])).resolves.toEqual([
      "k8s-aws-v1-cluster-a-1",
      "k8s-aws-v1-cluster-a-1",
    ]);
    now = 89_000;
    await token();
    expect(readFileSync(runs, "utf8")).toBe("run\n");
    // Within 10 s of expiring (100 s), it runs again.
    now = 91_000;
    await token();
    expect(readFileSync(runs, "utf8")).toBe("run\nrun\n");
  });

  it("reports an exec plugin's failure with its stderr", async () => {
    const plugin = write("fail", "#!/bin/sh\necho 'token expired, run aws sso login' >&2\nexit 1\n");
    chmodSync(plugin, 0o755);
    const token = bearerToken({
      type: "exec",
      plugin: { command: plugin, args: [], env: {}, apiVersion: "client.authentication.k8s.io/v1" },
    });
    await expect(token()).rejects.toThrow(/exec plugin .*fail failed: token expired, run aws sso login/);
  });
});

describe("KubeClient.authorization", () => {
  it("is the bearer token of the access, none for a client certificate", async () => {
    const withToken = new KubeClient({ server: "https://c", token: { type: "static", token: "t" } });
    await expect(withToken.authorization()).resolves.toBe("Bearer t");
    const withCertificate = new KubeClient({ server: "https://c", tls: { cert: Buffer.from(CERT) } });
    await expect(withCertificate.authorization()).resolves.toBeUndefined();
  });
});
