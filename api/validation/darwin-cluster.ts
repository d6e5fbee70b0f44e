/**
 * DarwinCluster rules beyond the CRD schema: the runtime must exist and be usable, GPUs need a GPU runtime,
 * memory must be enough for a Ray node, pip requirements must be ones pip can read, and Maven coordinates
 * need a Spark runtime (whose PySpark's Ivy resolves them) and the characters the install step accepts.
 */
import type { z } from "zod";
import { DarwinCluster } from "../../crds/src/index.ts";
import type { Lookups, RuntimeRecord, ValidationContext } from "./context.ts";
import { type FieldError, fieldPath, quote } from "./field-error.ts";
import { memoryFieldErrors } from "./memory.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

/** Ray's raylet, object store and Python workers share a node's memory; below 1Gi they do not start. */
const RAY_NODE_MEMORY = {
  min: 2 ** 30,
  minReason: "a Ray node needs (raylet, object store and workers share it)",
};

/**
 * A PEP 508 requirement as pip reads it: name[extras], version specifiers, an optional `@ url` and an
 * optional `; marker`; or a direct URL (git+https://..., https://.../x.whl).
 */
const PIP_REQUIREMENT =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?(?:\s*\[\s*[A-Za-z0-9._-]+(?:\s*,\s*[A-Za-z0-9._-]+)*\s*\])?(?:\s*(?:===|==|!=|~=|>=|<=|>|<)\s*[A-Za-z0-9.*+!_-]+(?:\s*,\s*(?:===|==|!=|~=|>=|<=|>|<)\s*[A-Za-z0-9.*+!_-]+)*|\s*@\s*[a-z][a-z0-9+.-]*:\/\/\S+)?(?:\s*;\s*[A-Za-z0-9_.'"<>=!~ ()-]+)?|(?:git\+)?(?:https?|ssh|file):\/\/\S+)$/;

/** group:artifact:version as the Maven install step takes them (render/packages.ts MAVEN_SCRIPT). */
const MAVEN_COORDINATE = /^[A-Za-z0-9_.-]+:[A-Za-z0-9_.-]+:[A-Za-z0-9_.+-]+$/;

export function validateDarwinCluster(
  object: unknown,
  oldObject: unknown,
  context: ValidationContext,
): FieldError[] {
  const { spec, errors } = parseResource(DarwinCluster, object);
  if (!spec) return errors;
  const old = oldObject === undefined ? undefined : parseResource(DarwinCluster, oldObject).spec;
  const selectsRuntime = old === undefined || old.runtime !== spec.runtime;
  const runtime = context.lookups.findRuntime(spec.runtime);

  if (selectsRuntime) errors.push(...runtimeErrors(spec.runtime, runtime, context.lookups));
  if (runtime && !runtime.spec.gpu) {
    spec.workerGroups.forEach((group, i) => {
      const oldGpus = old?.workerGroups.find((g) => g.name === group.name)?.gpus;
      if (group.gpus > 0 && (selectsRuntime || oldGpus !== group.gpus)) {
        const gpuRuntimes = usable(context.lookups.listRuntimes()).filter((r) => r.spec.gpu);
        errors.push({
          field: fieldPath("spec", "workerGroups", i, "gpus"),
          message: `${group.gpus} GPUs requested but runtime ${quote(spec.runtime)} has no GPU support (gpu: false)`,
          fix: gpuRuntimes.length
            ? `set spec.runtime to a GPU runtime (${names(gpuRuntimes)}) or set gpus to 0`
            : "set gpus to 0: no GPU runtime is installed (kubectl get darwinruntimes)",
        });
      }
    });
  }
  errors.push(...memoryFieldErrors("spec.head.memory", spec.head.memory, RAY_NODE_MEMORY));
  spec.workerGroups.forEach((group, i) => {
    errors.push(
      ...memoryFieldErrors(fieldPath("spec", "workerGroups", i, "memory"), group.memory, RAY_NODE_MEMORY),
    );
  });
  spec.packages?.pip.forEach((requirement, i) => {
    if (!PIP_REQUIREMENT.test(requirement.trim())) {
      errors.push({
        field: fieldPath("spec", "packages", "pip", i),
        message: `${quote(requirement)} is not a pip requirement`,
        fix: "write name, name==version (two '='), name>=version, name[extra]==version or a package URL",
      });
    }
  });
  errors.push(...mavenErrors(spec, old, selectsRuntime, runtime, context.lookups));
  return errors;
}

type Spec = z.output<typeof DarwinCluster.spec>;

/**
 * Maven coordinates: each one group:artifact:version; and, when the runtime or the list is new, a runtime
 * with Spark (a cluster created earlier keeps working as it did).
 */
function mavenErrors(
  spec: Spec,
  old: Spec | undefined,
  selectsRuntime: boolean,
  runtime: RuntimeRecord | undefined,
  lookups: Lookups,
): FieldError[] {
  const maven = spec.packages?.maven ?? [];
  const errors: FieldError[] = [];
  maven.forEach((coordinate, i) => {
    if (!MAVEN_COORDINATE.test(coordinate)) {
      errors.push({
        field: fieldPath("spec", "packages", "maven", i),
        message: `${quote(coordinate)} is not Maven coordinates group:artifact:version`,
        fix: "write group:artifact:version with letters, digits, '.', '_' and '-' (and '+' in the version), e.g. org.apache.spark:spark-avro_2.12:3.5.1",
      });
    }
  });
  const changed = maven.join(",") !== (old?.packages?.maven ?? []).join(",");
  if (runtime && maven.length > 0 && !runtime.spec.sparkVersion && (selectsRuntime || changed)) {
    const spark = usable(lookups.listRuntimes()).filter((r) => r.spec.sparkVersion);
    errors.push({
      field: "spec.packages.maven",
      message: `runtime ${quote(spec.runtime)} has no Spark (no sparkVersion), and Maven packages are resolved and used by Spark`,
      fix: spark.length
        ? `set spec.runtime to a Spark runtime (${names(spark)}) or remove spec.packages.maven`
        : "remove spec.packages.maven: no Spark runtime is installed (kubectl get darwinruntimes)",
    });
  }
  return errors;
}

/** Advice on updates that keep a runtime which is no longer fit for new clusters. */
export function darwinClusterWarnings(
  object: unknown,
  oldObject: unknown,
  context: ValidationContext,
): string[] {
  if (oldObject === undefined) return [];
  const { spec } = parseResource(DarwinCluster, object);
  const old = parseResource(DarwinCluster, oldObject).spec;
  if (!spec || !old || old.runtime !== spec.runtime) return [];
  const runtime = context.lookups.findRuntime(spec.runtime);
  const alternatives = names(usable(context.lookups.listRuntimes()));
  if (!runtime) {
    return [
      `spec.runtime: DarwinRuntime ${quote(spec.runtime)} no longer exists, so the cluster cannot start; choose one of: ${alternatives}`,
    ];
  }
  if (runtime.spec.deprecated) {
    return [`spec.runtime: runtime ${quote(spec.runtime)} is deprecated; move to one of: ${alternatives}`];
  }
  return [];
}

function runtimeErrors(ref: string, runtime: RuntimeRecord | undefined, lookups: Lookups): FieldError[] {
  const candidates = usable(lookups.listRuntimes());
  const choose = candidates.length
    ? `set it to the displayName or name of one of: ${names(candidates)}`
    : "no usable DarwinRuntime is installed: ask an administrator to add one (kubectl get darwinruntimes)";
  if (!runtime)
    return [{ field: "spec.runtime", message: `DarwinRuntime ${quote(ref)} does not exist`, fix: choose }];
  if (runtime.spec.deprecated) {
    return [
      {
        field: "spec.runtime",
        message: `runtime ${quote(ref)} is deprecated and not available for new clusters`,
        fix: choose,
      },
    ];
  }
  return [];
}

const usable = (runtimes: readonly RuntimeRecord[]) => runtimes.filter((r) => !r.spec.deprecated);

/** Display names of runtimes for a fix, shortened when there are many. */
function names(runtimes: readonly RuntimeRecord[]): string {
  const all = runtimes.map((r) => r.spec.displayName).sort();
  return all.length > 8 ? `${all.slice(0, 8).join(", ")} and ${all.length - 8} more` : all.join(", ");
}

export const darwinClusterValidator: KindValidator = {
  kind: DarwinCluster,
  needs: ["runtimes"],
  validate: validateDarwinCluster,
  warnings: darwinClusterWarnings,
};
