// @testbed node
/**
 * The real node's lifecycle on this machine: a kubelet restart leaves running pods running (same container,
 * no restart), and stopping the node stops every container it started and leaves no mounts, veths or
 * iptables chains behind. The node comes back up at the end, for the test files after this one.
 */
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { testbed } from "../testbed/testbed-cli.ts";
import { baseImage, getPod, nodeTraces, realNodeNamespace, waitPodReady } from "./real-node.ts";

/** The node's components, stopped in this order by `hack/testbed stop` (the reverse of their start). */
const NODE_COMPONENTS = ["registry", "containerd", "kubelet", "kube_proxy", "coredns", "node_images"];

let namespace: string;

/** Running containers as containerd sees them (the CRI view, without the kubelet). */
function runningContainers(): string[] {
  const out = execFileSync(
    requireEnv("DARWIN_CRICTL"),
    [
      "--runtime-endpoint",
      `unix://${requireEnv("DARWIN_CONTAINERD_SOCK")}`,
      "ps",
      "--state",
      "running",
      "-q",
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
  return out.split("\n").filter(Boolean);
}

beforeAll(async () => {
  namespace = await realNodeNamespace("node-life");
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "sleeper", namespace },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{ name: "sleeper", image: baseImage(), command: ["sleep", "infinity"] }],
    },
  });
  await waitPodReady(namespace, "sleeper");
});

afterAll(async () => {
  // whatever happened above, the node is up again for the next file
  testbed("up", ...NODE_COMPONENTS);
  if (namespace) await kubectl(["delete", "namespace", namespace, "--wait=false"]);
});

describe("a kubelet restart", () => {
  it("leaves running pods running", async () => {
    const before = await getPod(namespace, "sleeper");
    const containerId = before.status.containerStatuses?.[0]?.containerID?.replace(/^containerd:\/\//, "");
    expect(containerId).toBeTruthy();

    testbed("stop", "kubelet");
    // without a kubelet the container keeps running under containerd
    expect(runningContainers()).toContain(containerId);

    testbed("up", "kubelet");
    const after = await waitPodReady(namespace, "sleeper");
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.status.containerStatuses?.[0]?.containerID).toBe(
      before.status.containerStatuses?.[0]?.containerID,
    );
    expect(after.status.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(runningContainers()).toContain(containerId);
  });
});

describe("stopping the node", () => {
  it("stops every container and leaves no mounts, veths or iptables chains", () => {
    const before = nodeTraces();
    // the listing sees the running node: its pod's mounts and veth, kube-proxy's and the CNI's chains
    expect(before.bridge).toBe(true);
    expect(before.veths.length).toBeGreaterThan(0);
    expect(before.mounts.length).toBeGreaterThan(0);
    expect(before.chains).toContain("nat/KUBE-SERVICES");
    expect(runningContainers().length).toBeGreaterThan(0);
    const socket = requireEnv("DARWIN_CONTAINERD_SOCK");

    testbed("stop", ...NODE_COMPONENTS);

    const after = nodeTraces();
    expect(after).toEqual({ mounts: [], veths: [], chains: [], bridge: false });
    // no shim or container process is left: nothing runs from the node's containerd build or its pods
    const shims = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes("containerd-shim-runc-v2") || line.includes(socket));
    expect(shims).toEqual([]);
  });
});
