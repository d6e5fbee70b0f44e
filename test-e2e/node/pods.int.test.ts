// @testbed node
/**
 * Real pods on the testbed's node darwin-node-0: images from the local registry run under containerd,
 * `kubectl logs` and `kubectl exec` reach them through the apiserver and the kubelet, a ClusterIP Service
 * answers from this machine and from another pod (kube-proxy's iptables rules), pods resolve Service
 * names through CoreDNS, and a pod reaches the apiserver through the `kubernetes` Service.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { waitFor } from "../support/wait.ts";
import { baseImage, darwinImage, nodeName, realNodeNamespace, waitPodReady } from "./real-node.ts";

let namespace: string;
let clusterIP: string;

/** A tiny HTTP server in the darwin image (Node 24), answering with its pod name. */
const SERVER = `
const http = require("node:http");
http.createServer((req, res) => res.end("hello from " + process.env.HOSTNAME + "\\n")).listen(8080, () => {
  console.log("listening on 8080");
});
process.on("SIGTERM", () => process.exit(0));
`;

beforeAll(async () => {
  namespace = await realNodeNamespace("node-pods");
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "web", namespace, labels: { app: "web" } },
        spec: {
          containers: [
            {
              name: "web",
              image: darwinImage(),
              args: ["-e", SERVER],
              ports: [{ containerPort: 8080 }],
              readinessProbe: { httpGet: { path: "/", port: 8080 }, periodSeconds: 1 },
            },
          ],
        },
      },
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "client", namespace },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: "client", image: baseImage(), command: ["sleep", "infinity"] }],
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace },
        spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ],
  });
  await waitPodReady(namespace, "web");
  await waitPodReady(namespace, "client");
  clusterIP = (
    await kubectlOk(["-n", namespace, "get", "service", "web", "-o", "jsonpath={.spec.clusterIP}"])
  ).trim();
});

afterAll(async () => {
  if (namespace) await kubectl(["delete", "namespace", namespace, "--wait=false"]);
});

describe("a pod on the real node", () => {
  it("runs on darwin-node-0 with an address from the node's pod network", async () => {
    const pod = JSON.parse(await kubectlOk(["-n", namespace, "get", "pod", "web", "-o", "json"]));
    expect(pod.spec.nodeName).toBe(nodeName());
    expect(pod.status.phase).toBe("Running");
    expect(pod.status.podIP).toMatch(/^10\.88\./);
  });

  it("shows its output through kubectl logs", async () => {
    const logs = await waitFor("the server's log line", async () => {
      const out = await kubectlOk(["-n", namespace, "logs", "web"]);
      return out.includes("listening on 8080") ? out : undefined;
    });
    expect(logs).toContain("listening on 8080");
  });

  it("runs commands through kubectl exec", async () => {
    const out = await kubectlOk(["-n", namespace, "exec", "client", "--", "cat", "/etc/os-release"]);
    expect(out).toContain("Debian GNU/Linux 12 (bookworm)");
  });
});

describe("the apiserver from a pod", () => {
  it("answers through the kubernetes Service, to the pod's service account token", async () => {
    // what every in-cluster client does (KubeRay's autoscaler, the operator as a pod): the Service's
    // address from the environment, the mounted CA and token
    const sa = "/var/run/secrets/kubernetes.io/serviceaccount";
    const script = [
      `wget -qO- --ca-certificate=${sa}/ca.crt`,
      `--header="Authorization: Bearer $(cat ${sa}/token)" --header="Content-Type: application/json"`,
      `--post-data='{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}'`,
      "https://kubernetes.default.svc/apis/authentication.k8s.io/v1/selfsubjectreviews",
    ].join(" ");
    const out = await kubectlOk(["-n", namespace, "exec", "client", "--", "sh", "-c", script]);
    const review = JSON.parse(out) as { status: { userInfo: { username: string } } };
    expect(review.status.userInfo.username).toBe(`system:serviceaccount:${namespace}:default`);
  });
});

describe("a ClusterIP Service in front of it", () => {
  it("answers from this machine", async () => {
    const body = await waitFor("the Service from the host", async () => {
      const res = await fetch(`http://${clusterIP}/`, { signal: AbortSignal.timeout(3000) });
      return res.ok ? res.text() : undefined;
    });
    expect(body).toBe("hello from web\n");
  });

  it("answers from another pod, by its DNS name", async () => {
    const host = `web.${namespace}.svc.cluster.local`;
    const resolved = await kubectlOk(["-n", namespace, "exec", "client", "--", "getent", "hosts", host]);
    expect(resolved.split(/\s+/)[0]).toBe(clusterIP);
    const body = await kubectlOk(["-n", namespace, "exec", "client", "--", "wget", "-qO-", "http://web/"]);
    expect(body).toBe("hello from web\n");
  });

  it("is unknown to DNS once deleted", async () => {
    await kubectlOk(["-n", namespace, "delete", "service", "web"]);
    const host = `web.${namespace}.svc.cluster.local`;
    await waitFor(
      `${host} to stop resolving`,
      async () =>
        (await kubectl(["-n", namespace, "exec", "client", "--", "getent", "hosts", host])).code !== 0,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
  });
});
