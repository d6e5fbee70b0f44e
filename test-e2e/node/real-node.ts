/**
 * Helpers for tests on the testbed's real node (tier `node`): namespaces whose pods go to it, pods from the
 * local registry's images, and what the node leaves on this machine (mounts, veths, iptables chains).
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { kubectl, kubectlOk } from "../support/kubectl.ts";
import { requireEnv } from "../support/testbed-env.ts";
import { waitFor } from "../support/wait.ts";

/** The node's label and taint key (hack/components/node.sh). */
export const NODE_KEY = "darwin.dreamhorizon.org/node";

export const nodeName = (): string => requireEnv("DARWIN_NODE");
export const baseImage = (): string => requireEnv("DARWIN_IMAGE_DARWIN_BASE");
export const darwinImage = (): string => requireEnv("DARWIN_IMAGE_DARWIN");
export const rayImage = (): string => requireEnv("DARWIN_IMAGE_DARWIN_RAY");

/**
 * A namespace of the test's own whose pods all go to the real node: the apiserver's PodNodeSelector and
 * PodTolerationRestriction admission add the node selector and the toleration from its annotations.
 */
export async function realNodeNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
  await kubectlOk(["apply", "-f", "-"], {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      annotations: {
        "scheduler.alpha.kubernetes.io/node-selector": `${NODE_KEY}=real`,
        "scheduler.alpha.kubernetes.io/defaultTolerations": JSON.stringify([
          { key: NODE_KEY, operator: "Equal", value: "real", effect: "NoSchedule" },
        ]),
      },
    },
  });
  // the controller-manager creates the default ServiceAccount, which ServiceAccount admission needs
  await waitFor(`ServiceAccount default in ${name}`, async () => {
    const result = await kubectl(["-n", name, "get", "serviceaccount", "default", "-o", "name"]);
    return result.code === 0;
  });
  return name;
}

export interface PodStatus {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: {
    phase?: string;
    podIP?: string;
    containerStatuses?: Array<{ name: string; ready: boolean; restartCount: number; containerID?: string }>;
  };
}

export async function getPod(namespace: string, name: string): Promise<PodStatus> {
  return JSON.parse(await kubectlOk(["-n", namespace, "get", "pod", name, "-o", "json"])) as PodStatus;
}

/** Waits until every container of the pod is ready; returns the pod. */
export function waitPodReady(namespace: string, name: string, timeoutMs = 180_000): Promise<PodStatus> {
  return waitFor(
    `pod ${namespace}/${name} ready`,
    async () => {
      const pod = await getPod(namespace, name);
      const statuses = pod.status.containerStatuses ?? [];
      return statuses.length > 0 && statuses.every((s) => s.ready) ? pod : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

/** What the node puts on this machine, by kind; a node that stopped cleanly leaves each list empty. */
export interface NodeTraces {
  mounts: string[];
  veths: string[];
  chains: string[];
  bridge: boolean;
}

export function nodeTraces(): NodeTraces {
  const run = requireEnv("DARWIN_RUN");
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter(
      (m) =>
        m.startsWith(`${run}/data/node/`) ||
        m.startsWith("/run/containerd/") ||
        m.startsWith("/run/netns/cni-"),
    );
  const veths = execFileSync("ip", ["-o", "link", "show", "type", "veth"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .map((line) => line.split(": ")[1] ?? line);
  const chains: string[] = [];
  for (const table of ["filter", "nat", "mangle"]) {
    const saved = execFileSync("iptables-save", ["-t", table], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    for (const match of saved.matchAll(/^:((?:KUBE|CNI)-\S+)/gm)) chains.push(`${table}/${match[1]}`);
  }
  let bridge = true;
  try {
    execFileSync("ip", ["link", "show", "darwin0"], { stdio: "ignore" });
  } catch {
    bridge = false;
  }
  return { mounts, veths, chains, bridge };
}
