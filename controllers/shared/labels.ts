/** Labels and annotations Darwin puts on every child, and the rules Kubernetes sets for label values. */
import { GROUP } from "../../crds/src/index.ts";
import { FIELD_MANAGER, MANAGED_BY_LABEL } from "../../operator/apply.ts";

/** On every child: the operator caches only the children that carry it (see operator/apply.ts). */
export const MANAGED_BY = { [MANAGED_BY_LABEL]: FIELD_MANAGER } as const;

/** A label value: at most 63 characters, alphanumerics with '-', '_' or '.' inside; may be empty. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/** The name part of a label key follows the same rule as a value, but must not be empty. */
export function isLabelName(value: string): boolean {
  return value.length > 0 && isLabelValue(value);
}

/** A label key under Darwin's group, e.g. darwin.dreamhorizon.org/cluster. */
export const darwinKey = (name: string): string => `${GROUP}/${name}`;
