/**
 * Tests play the kubelet of build pods kept off every node: the pod runs, then its build container ends
 * with an exit code and a termination message, written to pods/status as a kubelet writes them.
 */
import type { KubeClient } from "../../../operator/kube-client.ts";
import type { KubeObject } from "../../../operator/resource.ts";
import { mergePatch, waitFor } from "../../../operator/testing/testbed.ts";
import { PODS } from "../../shared/resource-types.ts";
import { BUILD_CONTAINER, buildJobName } from "../render/build-job.ts";

/** The pods of a build's Job. */
export async function buildPods(client: KubeClient, namespace: string, build: string): Promise<KubeObject[]> {
  const list = (await client.request({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector: `batch.kubernetes.io/job-name=${buildJobName(build)}` },
  })) as { items: KubeObject[] };
  return list.items;
}

/** The build's pod runs, then ends with `exitCode` and `message` (Succeeded for 0, else Failed). */
export async function finishBuildPod(
  client: KubeClient,
  namespace: string,
  build: string,
  exitCode: number,
  message: string,
): Promise<void> {
  const pod = await waitFor(
    `the build pod of ${build}`,
    async () => (await buildPods(client, namespace, build))[0],
  );
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const container = { name: BUILD_CONTAINER, image: "moby/buildkit", imageID: "", restartCount: 0 };
  const patch = (status: object) =>
    mergePatch(client, PODS, namespace, pod.metadata.name, { status }, "status");
  await patch({
    phase: "Running",
    startTime: now,
    containerStatuses: [{ ...container, ready: true, started: true, state: { running: { startedAt: now } } }],
  });
  const reason = exitCode === 0 ? "Completed" : "Error";
  await patch({
    phase: exitCode === 0 ? "Succeeded" : "Failed",
    containerStatuses: [
      {
        ...container,
        ready: false,
        started: false,
        state: { terminated: { exitCode, reason, message, startedAt: now, finishedAt: now } },
      },
    ],
  });
}
