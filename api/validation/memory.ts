/**
 * Memory values as Darwin specs write them: a Kubernetes quantity ("8Gi", "512Mi", "1.5G") or, as in the
 * seed's cluster JSON, a bare number meaning GiB (8 or "8" = 8Gi). Shared by validation and rendering.
 */
import { type FieldError, quote } from "./field-error.ts";

const GiB = 2 ** 30;

const SUFFIX_BYTES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: GiB,
  Ti: 2 ** 40,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  "": GiB, // a bare number means GiB
};

const MEMORY = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|K|M|G|T)?$/;

/** Bytes a memory value stands for, or undefined when it is not one. */
export function memoryBytes(value: number | string): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) && value > 0 ? value * GiB : undefined;
  const match = MEMORY.exec(value);
  if (!match) return undefined;
  const amount = Number(match[1]);
  const unit = SUFFIX_BYTES[match[2] ?? ""];
  return unit === undefined || !(amount > 0) ? undefined : amount * unit;
}

/** The Kubernetes quantity to put in a container's resources: bare numbers gain the Gi suffix. */
export function memoryQuantity(value: number | string): string {
  const text = String(value);
  return /^[0-9.]+$/.test(text) ? `${text}Gi` : text;
}

/** Bytes as a short quantity for messages: 1073741824 -> "1Gi", 1536 MiB -> "1.5Gi". */
export function formatBytes(bytes: number): string {
  for (const [suffix, unit] of [
    ["Ti", 2 ** 40],
    ["Gi", GiB],
    ["Mi", 2 ** 20],
    ["Ki", 2 ** 10],
  ] as const) {
    if (bytes >= unit) return `${Number((bytes / unit).toFixed(2))}${suffix}`;
  }
  return `${bytes}`;
}

const UNITS_HELP = "Ki, Mi, Gi, Ti are powers of 1024; K, M, G, T of 1000; no unit means GiB";

/**
 * Checks that a memory field parses and lies within bounds; `minReason` says who needs the minimum.
 * @param max defaults to 4Ti, the bare-number bound of the schema (4096 GiB).
 */
export function memoryFieldErrors(
  field: string,
  value: number | string,
  bounds: { min: number; minReason: string; max?: number },
): FieldError[] {
  const bytes = memoryBytes(value);
  const max = bounds.max ?? 4096 * GiB;
  if (bytes === undefined) {
    return [
      {
        field,
        message: `${quote(value)} is not a memory quantity`,
        fix: `write e.g. 8Gi or 512Mi (${UNITS_HELP})`,
      },
    ];
  }
  if (bytes < bounds.min) {
    return [
      {
        field,
        message: `${quote(value)} is ${formatBytes(bytes)}, less than the ${formatBytes(bounds.min)} ${bounds.minReason}`,
        fix: `ask for at least ${formatBytes(bounds.min)} (${UNITS_HELP})`,
      },
    ];
  }
  if (bytes > max) {
    return [
      {
        field,
        message: `${quote(value)} is more than the ${formatBytes(max)} limit`,
        fix: `ask for at most ${formatBytes(max)}`,
      },
    ];
  }
  return [];
}
