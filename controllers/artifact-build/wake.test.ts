/** Which builds a change wakes: the end of a build is its Job's change, which must move the queue. */
import { describe, expect, it } from "vitest";
import { API_VERSION } from "../../crds/src/index.ts";
import type { CacheReader } from "../../operator/controller.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { ARTIFACT_BUILDS, buildsAffectedBy, buildsWaitingOn } from "./reconciler.ts";
import { BUILD_LABEL, buildJobName } from "./render/build-job.ts";

const build = (namespace: string, name: string, phase?: string, cancel = false): KubeObject => ({
  apiVersion: API_VERSION,
  kind: "ArtifactBuild",
  metadata: { name, namespace, uid: `${namespace}-${name}` },
  spec: { cancel },
  ...(phase && { status: { phase } }),
});

const builds = [
  build("a", "running", "Building"),
  build("a", "queued", "Queued"),
  build("b", "new"),
  build("b", "done", "Succeeded"),
  build("b", "cancelled", "Queued", true),
];
const cache: CacheReader = {
  list: (type) => (type === ARTIFACT_BUILDS ? builds : []),
};

describe("waking the queue", () => {
  it("wakes every waiting build of the cluster when a build Job changes", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: buildJobName("running"), namespace: "a", labels: { [BUILD_LABEL]: "running" } },
      status: { conditions: [{ type: "Complete", status: "True" }] },
    };
    expect(buildsWaitingOn(job, cache).sort()).toEqual(["a/queued", "b/new"]);
  });

  it("wakes nothing for a Job that is not a build's", () => {
    const job: KubeObject = {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "etl", namespace: "a" },
    };
    expect(buildsWaitingOn(job, cache)).toEqual([]);
  });

  it("wakes the waiting builds, not the changed one, when another client changes a build", () => {
    expect(buildsAffectedBy(builds[1] as KubeObject, cache).sort()).toEqual(["b/new"]);
  });
});
