import { describe, expect, it } from "vitest";
import { lookupsFrom } from "./context.ts";
import { darwinClusterWarnings, validateDarwinCluster } from "./darwin-cluster.ts";
import { formatFieldErrors } from "./field-error.ts";
import { context, cpuRuntime, resource } from "./fixtures.ts";

const cluster = (spec: Record<string, unknown> = {}) =>
  resource("DarwinCluster", {
    runtime: "Ray2.37.0-Py310-CPU",
    owner: "user@example.com",
    head: { cores: 4, memory: "8Gi" },
    workerGroups: [{ name: "default", cores: 2, memory: 4, minPods: 1, maxPods: 2 }],
    packages: {
      pip: ["xgboost==2.1.1", "pandas>=2,<3", "ray[serve]", "torch @ https://example.com/torch.whl"],
    },
    ...spec,
  });

describe("validateDarwinCluster", () => {
  it("accepts a valid cluster by displayName and by name", () => {
    expect(validateDarwinCluster(cluster(), undefined, context)).toEqual([]);
    expect(validateDarwinCluster(cluster({ runtime: cpuRuntime.name }), undefined, context)).toEqual([]);
  });

  it("accepts gpus on a gpu runtime", () => {
    const spec = {
      runtime: "Ray2.37.0-Py310-GPU",
      workerGroups: [{ name: "gpu", cores: 8, memory: "32Gi", gpus: 1 }],
    };
    expect(validateDarwinCluster(cluster(spec), undefined, context)).toEqual([]);
  });

  it("refuses a runtime that does not exist and lists the usable ones", () => {
    const errors = validateDarwinCluster(cluster({ runtime: "Ray9.9.9" }), undefined, context);
    expect(errors).toEqual([
      {
        field: "spec.runtime",
        message: 'DarwinRuntime "Ray9.9.9" does not exist',
        fix: "set it to the displayName or name of one of: Ray2.37.0-Py310-CPU, Ray2.37.0-Py310-GPU",
      },
    ]);
  });

  it("says when no runtime is installed at all", () => {
    const errors = validateDarwinCluster(cluster(), undefined, { lookups: lookupsFrom({}) });
    expect(errors[0]?.fix).toMatch(/no usable DarwinRuntime is installed/);
  });

  it("refuses a deprecated runtime for a new cluster but keeps existing ones working, with a warning", () => {
    const created = validateDarwinCluster(cluster({ runtime: "Ray2.9.0-Py39-CPU" }), undefined, context);
    expect(created).toEqual([
      expect.objectContaining({ field: "spec.runtime", message: expect.stringMatching(/deprecated/) }),
    ]);

    const before = cluster({ runtime: "Ray2.9.0-Py39-CPU" });
    const after = cluster({ runtime: "Ray2.9.0-Py39-CPU", inactiveTimeMinutes: 30 });
    expect(validateDarwinCluster(after, before, context)).toEqual([]);
    expect(darwinClusterWarnings(after, before, context)).toEqual([
      expect.stringMatching(/deprecated; move to one of/),
    ]);
    expect(validateDarwinCluster(cluster({ runtime: "Ray2.9.0-Py39-CPU" }), cluster(), context)).toHaveLength(
      1,
    );
  });

  it("refuses gpus on a cpu runtime, naming the group, unless the update leaves them alone", () => {
    const spec = {
      workerGroups: [
        { name: "a", cores: 1, memory: 4 },
        { name: "b", cores: 1, memory: 4, gpus: 2 },
      ],
    };
    const errors = validateDarwinCluster(cluster(spec), undefined, context);
    expect(errors).toEqual([
      {
        field: "spec.workerGroups[1].gpus",
        message: '2 GPUs requested but runtime "Ray2.37.0-Py310-CPU" has no GPU support (gpu: false)',
        fix: "set spec.runtime to a GPU runtime (Ray2.37.0-Py310-GPU) or set gpus to 0",
      },
    ]);
    // An old object that (somehow) already had them: an unrelated update is not blocked.
    expect(validateDarwinCluster(cluster({ ...spec, suspend: true }), cluster(spec), context)).toEqual([]);
  });

  it("checks memory quantities, bare numbers meaning GiB", () => {
    const spec = {
      head: { cores: 1, memory: "512Mi" },
      workerGroups: [
        { name: "a", cores: 1, memory: 1 },
        { name: "b", cores: 1, memory: "900M" },
        { name: "c", cores: 1, memory: "5Ti" },
      ],
    };
    const errors = validateDarwinCluster(cluster(spec), undefined, context);
    expect(errors.map((e) => e.field)).toEqual([
      "spec.head.memory",
      "spec.workerGroups[1].memory",
      "spec.workerGroups[2].memory",
    ]);
    expect(errors[0]).toMatchObject({
      message:
        '"512Mi" is 512Mi, less than the 1Gi a Ray node needs (raylet, object store and workers share it)',
    });
    expect(errors[0]?.fix).toMatch(/no unit means GiB/);
    expect(errors[2]).toMatchObject({ message: '"5Ti" is more than the 4Ti limit' });
  });

  it("refuses pip requirements pip cannot read", () => {
    const errors = validateDarwinCluster(
      cluster({ packages: { pip: ["ok==1", "xgboost=2.1.1", "a b"] } }),
      undefined,
      context,
    );
    expect(errors.map((e) => e.field)).toEqual(["spec.packages.pip[1]", "spec.packages.pip[2]"]);
    expect(errors[0]?.fix).toMatch(/two '='/);
  });

  it("takes Maven coordinates only for a Spark runtime, and only as group:artifact:version", () => {
    const sparkRuntime = {
      name: "ray2.37.0-py310-spark3.5.1-cpu",
      spec: { ...cpuRuntime.spec, displayName: "Ray2.37.0-Py310-Spark3.5.1-CPU", sparkVersion: "3.5.1" },
    };
    const withSpark = { lookups: lookupsFrom({ runtimes: [cpuRuntime, sparkRuntime] }) };
    const maven = { pip: [], maven: ["org.apache.spark:spark-avro_2.12:3.5.1", "org.a:b:1.0;x"] };
    const onSpark = cluster({ runtime: "Ray2.37.0-Py310-Spark3.5.1-CPU", packages: maven });
    expect(validateDarwinCluster(onSpark, undefined, withSpark)).toEqual([
      expect.objectContaining({
        field: "spec.packages.maven[1]",
        message: '"org.a:b:1.0;x" is not Maven coordinates group:artifact:version',
      }),
    ]);

    const plain = { pip: [], maven: ["org.apache.spark:spark-avro_2.12:3.5.1"] };
    expect(validateDarwinCluster(cluster({ packages: plain }), undefined, withSpark)).toEqual([
      {
        field: "spec.packages.maven",
        message:
          'runtime "Ray2.37.0-Py310-CPU" has no Spark (no sparkVersion), and Maven packages are resolved and used by Spark',
        fix: "set spec.runtime to a Spark runtime (Ray2.37.0-Py310-Spark3.5.1-CPU) or remove spec.packages.maven",
      },
    ]);
    // A cluster stored before this rule keeps working while neither its runtime nor its coordinates change.
    const before = cluster({ packages: plain });
    const after = cluster({ packages: plain, inactiveTimeMinutes: 30 });
    expect(validateDarwinCluster(after, before, withSpark)).toEqual([]);
  });

  it("reports schema violations with field paths before any rule runs", () => {
    const errors = validateDarwinCluster(
      cluster({ owner: "nobody", workerGroups: [{ name: "A", cores: 0, memory: 4, capacity: "cheap" }] }),
      undefined,
      context,
    );
    expect(errors).toEqual([
      {
        field: "spec.owner",
        message: '"nobody" must be an email address, e.g. data-eng@example.com',
      },
      {
        field: "spec.workerGroups[0].name",
        message:
          "\"A\" must be lower-case letters, digits and '-', starting and ending with a letter or digit, e.g. housing-project",
      },
      {
        field: "spec.workerGroups[0].cores",
        message: "must be more than 0",
        fix: expect.stringMatching(/^expected cpu cores/i),
      },
      {
        field: "spec.workerGroups[0].capacity",
        message: 'must be one of "spot", "on-demand"',
        fix: "use one of: spot, on-demand",
      },
    ]);
  });

  it("returns every error together, formatted as one message", () => {
    const spec = {
      runtime: "Ray9.9.9",
      head: { cores: 1, memory: "100M" },
      packages: { pip: ["xgboost=2.1.1"] },
    };
    const errors = validateDarwinCluster(cluster(spec), undefined, context);
    expect(errors.map((e) => e.field)).toEqual(["spec.runtime", "spec.head.memory", "spec.packages.pip[0]"]);
    const message = formatFieldErrors(errors);
    expect(message).toMatch(
      /^3 errors: \(1\) spec\.runtime: DarwinRuntime "Ray9\.9\.9" does not exist; set it to /,
    );
    expect(message).toContain("(2) spec.head.memory: ");
    expect(message).toContain("(3) spec.packages.pip[0]: ");
  });
});
