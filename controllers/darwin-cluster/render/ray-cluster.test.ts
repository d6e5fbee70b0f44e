import { describe, expect, it } from "vitest";
import { cluster, RUNTIME } from "../fixtures.ts";
import { headServiceName, rayClusterName, renderRayCluster } from "./ray-cluster.ts";

const render = renderRayCluster;

describe("renderRayCluster", () => {
  it("renders the head and worker groups from the spec and the runtime", () => {
    const rc = render(cluster(), RUNTIME);
    expect(rc).toMatchObject({ apiVersion: "ray.io/v1", kind: "RayCluster" });
    expect(rc.metadata).toMatchObject({ name: "housing-project", namespace: "team-a" });
    expect(rc.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "darwin-operator",
      "darwin.dreamhorizon.org/cluster": "housing-project",
    });
    expect(rc.spec).toMatchObject({ rayVersion: "2.37.0", enableInTreeAutoscaling: true, suspend: false });
    const head = rc.spec.headGroupSpec;
    expect(head.rayStartParams).toEqual({ "dashboard-host": "0.0.0.0", "num-cpus": "0" });
    const [container] = head.template.spec?.containers ?? [];
    expect(container?.name).toBe("ray-head");
    expect(container?.image).toBe("rayproject/ray:2.37.0-py310");
    expect(container?.ports?.map((p) => [p.name, p.containerPort])).toEqual([
      ["gcs-server", 6379],
      ["dashboard", 8265],
      ["client", 10001],
      ["metrics", 8080],
    ]);
    expect(container?.resources).toEqual({
      requests: { cpu: "4", memory: "8Gi" },
      limits: { cpu: "4", memory: "8Gi" },
    });
    const [group] = rc.spec.workerGroupSpecs;
    expect(group).toMatchObject({ groupName: "default", minReplicas: 1, maxReplicas: 2 });
    expect(group?.template.spec?.containers[0]).toMatchObject({
      name: "ray-worker",
      resources: { requests: { cpu: "2", memory: "4Gi" }, limits: { cpu: "2", memory: "4Gi" } },
    });
    expect(group?.template.metadata?.labels?.["darwin.dreamhorizon.org/cluster"]).toBe("housing-project");
  });

  it.each([
    ["no worker groups", [], undefined],
    ["only groups of maxPods 0", [{ name: "idle", cores: 1, memory: 2, minPods: 0, maxPods: 0 }], undefined],
    ["a worker group", [{ name: "w", cores: 1, memory: 2 }], "0"],
  ])("with %s the head's num-cpus is %s", (_what, workerGroups, numCpus) => {
    expect(render(cluster({ workerGroups }), RUNTIME).spec.headGroupSpec.rayStartParams["num-cpus"]).toBe(
      numCpus,
    );
  });

  it.each([
    [60, "housing-project".padEnd(60, "x")],
    [63, `${"a".repeat(30)}-${"b".repeat(32)}`],
  ])("shortens a %d-character name to 53 with a deterministic hash", (_length, name) => {
    const rc = render(cluster({}, { name }), RUNTIME);
    expect(rc.metadata.name).toHaveLength(53);
    expect(rc.metadata.name).toMatch(/-[0-9a-f]{8}$/);
    expect(rc.metadata.name).toBe(rayClusterName(name));
    expect(render(cluster({}, { name }), RUNTIME).metadata.name).toBe(rc.metadata.name);
    expect(rayClusterName(`${name.slice(0, -1)}z`)).not.toBe(rc.metadata.name);
    // The label keeps the full DarwinCluster name; the head Service name stays a DNS label.
    expect(rc.metadata.labels?.["darwin.dreamhorizon.org/cluster"]).toBe(name);
    expect(headServiceName(name).length).toBeLessThanOrEqual(63);
  });

  it.each([
    [
      "spot",
      { "darwin.dreamhorizon.org/capacity": "spot" },
      [{ key: "darwin.dreamhorizon.org/capacity", operator: "Equal", value: "spot", effect: "NoSchedule" }],
    ],
    ["on-demand", { "darwin.dreamhorizon.org/capacity": "on-demand" }, undefined],
  ])(
    "places %s workers with a node selector and the matching toleration",
    (capacity, nodeSelector, tolerations) => {
      const rc = render(cluster({ workerGroups: [{ name: "w", cores: 1, memory: 2, capacity }] }), RUNTIME);
      const pod = rc.spec.workerGroupSpecs[0]?.template.spec;
      expect(pod?.nodeSelector).toEqual(nodeSelector);
      expect(pod?.tolerations).toEqual(tolerations);
    },
  );

  it("puts the head on on-demand capacity by default", () => {
    const pod = render(cluster(), RUNTIME).spec.headGroupSpec.template.spec;
    expect(pod?.nodeSelector).toEqual({ "darwin.dreamhorizon.org/capacity": "on-demand" });
    expect(pod?.tolerations).toBeUndefined();
  });

  it("starts each group at minPods on creation and keeps the autoscaler's replicas afterwards", () => {
    const spec = {
      workerGroups: [
        { name: "a", cores: 1, memory: 2, minPods: 1, maxPods: 4 },
        { name: "b", cores: 1, memory: 2, minPods: 0, maxPods: 3 },
      ],
    };
    const created = render(cluster(spec), RUNTIME);
    expect(created.spec.workerGroupSpecs.map((g) => g.replicas)).toEqual([1, 0]);
    // Re-applied after the autoscaler moved group a to 3: that value is sent back unchanged, never minPods.
    const reapplied = render(cluster(spec), RUNTIME, { liveReplicas: { a: 3 } });
    expect(reapplied.spec.workerGroupSpecs.map((g) => g.replicas)).toEqual([3, 0]);
    // A group added later starts at its minPods.
    const grown = render(
      cluster({
        workerGroups: [...spec.workerGroups, { name: "c", cores: 1, memory: 2, minPods: 2, maxPods: 2 }],
      }),
      RUNTIME,
      { liveReplicas: { a: 3, b: 1 } },
    );
    expect(grown.spec.workerGroupSpecs.map((g) => g.replicas)).toEqual([3, 1, 2]);
  });

  it.each([true, false])("mirrors spec.suspend=%s", (suspend) => {
    expect(render(cluster({ suspend }), RUNTIME).spec.suspend).toBe(suspend);
  });

  it("gives the autoscaler beside the head the configured resources, and leaves KubeRay's defaults otherwise", () => {
    expect(render(cluster(), RUNTIME).spec.autoscalerOptions).toBeUndefined();
    const autoscaler = {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    };
    expect(render(cluster(), RUNTIME, { autoscaler }).spec.autoscalerOptions).toEqual({
      resources: autoscaler,
    });
  });

  it("turns bare-number memory into Gi, and GPUs into nvidia.com/gpu", () => {
    const rc = render(
      cluster({
        head: { cores: 0.5, memory: 2 },
        workerGroups: [{ name: "g", cores: 8, memory: "1536Mi", gpus: 1 }],
      }),
      RUNTIME,
    );
    expect(rc.spec.headGroupSpec.template.spec?.containers[0]?.resources?.limits).toEqual({
      cpu: "0.5",
      memory: "2Gi",
    });
    expect(rc.spec.workerGroupSpecs[0]?.template.spec?.containers[0]?.resources?.limits).toEqual({
      cpu: "8",
      memory: "1536Mi",
      "nvidia.com/gpu": "1",
    });
  });

  it("installs pip and Maven packages on every Ray pod before Ray starts, and passes them on", () => {
    const rc = render(
      cluster({ packages: { pip: ["xgboost==2.1.1", "pandas"], maven: ["org.a:b:1.0"] } }),
      RUNTIME,
    );
    const env = [
      { name: "DARWIN_RUNTIME_ENV", value: '{"pip":["xgboost==2.1.1","pandas"]}' },
      { name: "DARWIN_MAVEN_PACKAGES", value: "org.a:b:1.0" },
      { name: "PYTHONPATH", value: "/opt/darwin/packages" },
      { name: "SPARK_CONF_DIR", value: "/opt/darwin/maven/conf" },
    ];
    for (const pod of [rc.spec.headGroupSpec.template.spec, rc.spec.workerGroupSpecs[0]?.template.spec]) {
      expect(pod?.containers[0]?.env).toEqual(env);
      expect(pod?.containers[0]?.volumeMounts).toEqual([
        { name: "darwin-packages", mountPath: "/opt/darwin/packages" },
        { name: "darwin-maven", mountPath: "/opt/darwin/maven" },
      ]);
      expect(pod?.volumes).toEqual([
        { name: "darwin-packages", emptyDir: {} },
        { name: "darwin-maven", emptyDir: {} },
      ]);
      const [pip, maven] = pod?.initContainers ?? [];
      expect(pip?.image).toBe(RUNTIME.image);
      expect(maven?.image).toBe(RUNTIME.image);
      // The requirements and coordinates are arguments of the scripts, never part of them.
      expect(pip?.command?.slice(3)).toEqual(["install-packages", "xgboost==2.1.1", "pandas"]);
      expect(maven?.command?.slice(3)).toEqual(["install-maven-packages", "org.a:b:1.0"]);
    }
    const plain = render(cluster(), RUNTIME).spec.headGroupSpec.template.spec;
    expect(plain?.containers[0]?.env).toBeUndefined();
    expect(plain?.initContainers).toBeUndefined();
  });

  it("labels valid tags and keeps owner and all tags as annotations", () => {
    const rc = render(cluster({ owner: "ana@example.com", tags: ["tutorial", "cost center"] }), RUNTIME);
    expect(rc.metadata.labels).toMatchObject({ "tag.darwin.dreamhorizon.org/tutorial": "true" });
    expect(Object.keys(rc.metadata.labels ?? {})).not.toContain("darwin.dreamhorizon.org/owner");
    expect(rc.metadata.annotations).toEqual({
      "darwin.dreamhorizon.org/owner": "ana@example.com",
      "darwin.dreamhorizon.org/tags": "tutorial,cost center",
    });
  });
});

describe("rendered RayCluster", () => {
  it("matches the reviewed snapshot", () => {
    expect(renderRayCluster(cluster({ packages: { pip: ["xgboost==2.1.1"] } }), RUNTIME)).toMatchSnapshot();
  });
});
