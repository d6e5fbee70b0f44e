import { describe, expect, it } from "vitest";
import { MANAGED_BY } from "../../shared/labels.ts";
import { cluster, RUNTIME } from "../fixtures.ts";
import { jupyterName, jupyterURL, renderJupyterDeployment, renderJupyterService } from "./jupyter.ts";
import { renderRayCluster } from "./ray-cluster.ts";

describe("every child of a DarwinCluster", () => {
  it("carries app.kubernetes.io/managed-by=darwin-operator, the label the operator's caches select on", () => {
    const c = cluster();
    for (const child of [
      renderRayCluster(c, RUNTIME),
      renderJupyterDeployment(c, RUNTIME),
      renderJupyterService(c),
    ]) {
      expect(child.metadata.labels, child.kind).toMatchObject(MANAGED_BY);
    }
  });
});

describe("Jupyter", () => {
  it("runs the runtime's Jupyter image against the head's Ray client port, on on-demand capacity", () => {
    const runtime = { ...RUNTIME, jupyterImage: "example/jupyter:1" };
    const d = renderJupyterDeployment(cluster(), runtime);
    expect(d.metadata).toMatchObject({ name: "housing-project-jupyter", namespace: "team-a" });
    expect(d.spec?.replicas).toBe(1);
    const pod = d.spec?.template;
    expect(pod?.spec?.containers[0]?.image).toBe("example/jupyter:1");
    expect(pod?.spec?.containers[0]?.env).toContainEqual({
      name: "RAY_ADDRESS",
      value: "ray://housing-project-head-svc:10001",
    });
    expect(pod?.spec?.nodeSelector).toEqual({ "darwin.dreamhorizon.org/capacity": "on-demand" });
    expect(pod?.metadata?.labels).toMatchObject(d.spec?.selector.matchLabels ?? {});
  });

  it.each([
    [false, 1],
    [true, 0],
  ])("suspend=%s gives %d replicas", (suspend, replicas) => {
    const d = renderJupyterDeployment(cluster({ suspend }), RUNTIME);
    expect(d.spec?.replicas).toBe(replicas);
  });

  it("falls back to the Ray image", () => {
    const d = renderJupyterDeployment(cluster(), RUNTIME);
    expect(d.spec?.template.spec?.containers[0]?.image).toBe(RUNTIME.image);
  });

  it("serves port 8888 through a Service selecting the pod, with a URL inside the cluster", () => {
    const c = cluster();
    const svc = renderJupyterService(c);
    const d = renderJupyterDeployment(c, RUNTIME);
    expect(svc.spec?.selector).toEqual(d.spec?.selector.matchLabels);
    expect(svc.spec?.ports).toEqual([{ name: "http", port: 8888, targetPort: "http", protocol: "TCP" }]);
    expect(jupyterURL(c)).toBe("http://housing-project-jupyter.team-a.svc:8888");
  });

  it("keeps the name a DNS label for the longest cluster names", () => {
    expect(jupyterName("c".repeat(63)).length).toBeLessThanOrEqual(63);
    expect(jupyterName("c".repeat(63))).toMatch(/-[0-9a-f]{8}-jupyter$/);
    expect(jupyterName("2024.exp")).toMatch(/^x-2024-exp-[0-9a-f]{8}-jupyter$/);
  });
});

describe("rendered Jupyter", () => {
  it("matches the reviewed snapshot", () => {
    expect([renderJupyterDeployment(cluster(), RUNTIME), renderJupyterService(cluster())]).toMatchSnapshot();
  });
});
