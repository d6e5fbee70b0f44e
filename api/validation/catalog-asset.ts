/**
 * CatalogAsset rules beyond the CRD schema: schema field names must be unique ignoring case, because the
 * catalog's search index and most table formats (Parquet readers, Hive, SQL engines) fold case.
 */
import { CatalogAsset } from "../../crds/src/index.ts";
import { type FieldError, fieldPath, quote } from "./field-error.ts";
import { parseResource } from "./schema.ts";
import type { KindValidator } from "./validator.ts";

export function validateCatalogAsset(object: unknown): FieldError[] {
  const { spec, errors } = parseResource(CatalogAsset, object);
  if (!spec) return errors;
  const firstIndex = new Map<string, number>();
  spec.schema.forEach((field, i) => {
    const key = field.name.toLowerCase();
    const first = firstIndex.get(key);
    if (first === undefined) {
      firstIndex.set(key, i);
      return;
    }
    const other = spec.schema[first]?.name ?? "";
    errors.push({
      field: fieldPath("spec", "schema", i, "name"),
      message:
        other === field.name
          ? `${quote(field.name)} repeats spec.schema[${first}].name`
          : `${quote(field.name)} differs from spec.schema[${first}].name ${quote(other)} only in case`,
      fix: "give every schema field a distinct name (compared ignoring case)",
    });
  });
  return errors;
}

export const catalogAssetValidator: KindValidator = {
  kind: CatalogAsset,
  needs: [],
  validate: validateCatalogAsset,
};
