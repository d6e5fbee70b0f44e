/**
 * FeatureGroup rules beyond the CRD schema. CEL already refuses a type change, a removed or renamed feature
 * and a changed key without a version bump; this module names every changed column at its own field, and adds what CEL cannot say well: Kafka partitions only
 * grow, and column names must be unique and not CQL reserved words. These checks are linear in the number of
 * features, unlike the quadratic CEL rules, so they hold for reconcilers too whatever the CEL budget allows.
 */
import type { z } from "zod";
import { FeatureGroup } from "../../crds/src/index.ts";
import { type FieldError, fieldPath, quote } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

type FeatureGroupSpec = z.output<typeof FeatureGroup.spec>;

/** CQL words that cannot be column names without quoting (Cassandra 4/5 reserved keywords). */
export const CQL_RESERVED = new Set(
  `add allow alter and apply asc authorize batch begin by columnfamily create default delete desc describe drop
  entries execute for from full grant if in index infinity insert into is keyspace keyspaces limit materialized
  mbean mbeans modify nan norecursive not null of on or order primary rename replace revoke schema select set
  table to token truncate unlogged unset update use using view where with`.split(/\s+/),
);

export function validateFeatureGroup(object: unknown, oldObject: unknown): FieldError[] {
  const { spec, errors } = parseResource(FeatureGroup, object);
  if (!spec) return errors;
  const old = oldObject === undefined ? undefined : parseResource(FeatureGroup, oldObject).spec;

  const columns = [
    ...spec.entities.map((c, i) => ({ ...c, field: fieldPath("spec", "entities", i, "name") })),
    ...spec.features.map((c, i) => ({ ...c, field: fieldPath("spec", "features", i, "name") })),
  ];
  const seen = new Map<string, string>();
  for (const column of columns) {
    const first = seen.get(column.name);
    if (first) {
      errors.push({
        field: column.field,
        message: `${quote(column.name)} is already the name of ${first}`,
        fix: "give every entity key and feature its own name",
      });
    } else {
      seen.set(column.name, column.field);
    }
    if (CQL_RESERVED.has(column.name)) {
      errors.push({
        field: column.field,
        message: `${quote(column.name)} is a reserved word of CQL and cannot name an online-store column`,
        fix: `rename it, e.g. ${column.name}_value`,
      });
    }
  }
  if (old) errors.push(...changeErrors(spec, old));
  return errors;
}

/** What changed between versions, judged against the version rules. */
function changeErrors(spec: FeatureGroupSpec, old: FeatureGroupSpec): FieldError[] {
  const errors: FieldError[] = [];
  if (spec.version < old.version) {
    errors.push({
      field: "spec.version",
      message: `decreased from ${old.version} to ${spec.version}`,
      fix: `versions never go down: set spec.version to ${old.version} or higher`,
    });
  }
  if (spec.version === old.version) {
    const bump = `or increase spec.version to ${old.version + 1} (a new version gets a new table)`;
    spec.features.forEach((feature, i) => {
      const before = old.features.find((f) => f.name === feature.name);
      if (before && before.type !== feature.type) {
        errors.push({
          field: fieldPath("spec", "features", i, "type"),
          message: `type of feature ${quote(feature.name)} changed from ${before.type} to ${feature.type} without a version bump`,
          fix: `keep ${before.type}, ${bump}`,
        });
      }
    });
    old.features.forEach((feature, i) => {
      if (spec.features.some((f) => f.name === feature.name)) return;
      errors.push({
        field: "spec.features",
        message: `feature ${quote(feature.name)} (spec.features[${i}] of version ${old.version}) was removed or renamed without a version bump: readers of version ${old.version} would lose the column`,
        fix: `keep it, ${bump}`,
      });
    });
    const keys = (s: FeatureGroupSpec) => s.entities.map((e) => `${e.name}:${e.type}`).join(", ");
    if (keys(spec) !== keys(old)) {
      errors.push({
        field: "spec.entities",
        message: `entity keys changed from [${keys(old)}] to [${keys(spec)}] without a version bump`,
        fix: `keep the keys, ${bump}`,
      });
    }
  }
  if (old.stream.enabled && spec.stream.enabled && spec.stream.partitions < old.stream.partitions) {
    errors.push({
      field: "spec.stream.partitions",
      message: `decreased from ${old.stream.partitions} to ${spec.stream.partitions}, but a Kafka topic cannot lose partitions`,
      fix: `keep ${old.stream.partitions} or more partitions`,
    });
  }
  return errors;
}

export const featureGroupValidator: KindValidator = {
  kind: FeatureGroup,
  needs: [],
  validate: validateFeatureGroup,
};
