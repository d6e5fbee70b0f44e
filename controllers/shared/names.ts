/**
 * Names of children derived from their owner's name: deterministic, and within the limit of the child's
 * kind. A name that would be too long keeps a readable prefix and gains a short hash of the whole, so two
 * long names that share a prefix still differ.
 */
import { createHash } from "node:crypto";

/** Hex digits of the hash appended to a shortened name. */
const HASH_LENGTH = 8;

/**
 * `base + suffix`, at most `max` characters: when longer, `base` is cut and `-<hash of base>` inserted
 * before the suffix (`a-very-long-name-1f2e3d4c-jupyter`). The same input always gives the same name.
 */
export function boundedName(base: string, max: number, suffix = ""): string {
  if (base.length + suffix.length <= max) return `${base}${suffix}`;
  return hashedName(base, base, max, suffix);
}

/**
 * An RFC 1035 label (lower-case letters, digits and '-', starting with a letter) of at most `max`
 * characters, for kinds that demand one (KubeRay's RayCluster, a Service). A name that already is one is kept (or
 * shortened as boundedName does); any other (`2024.exp`) is rewritten and always carries the hash, so two
 * names that rewrite alike (`a.b`, `a-b`) stay apart.
 */
export function dns1035Name(base: string, max: number, suffix = ""): string {
  if (/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(base)) return boundedName(base, max, suffix);
  const rewritten = base.replace(/[^a-z0-9-]/g, "-");
  return hashedName(/^[a-z]/.test(rewritten) ? rewritten : `x-${rewritten}`, base, max, suffix);
}

/** `prefix-<hash of source>suffix`, cut to `max`. */
function hashedName(prefix: string, source: string, max: number, suffix: string): string {
  const hash = createHash("sha256").update(source).digest("hex").slice(0, HASH_LENGTH);
  const keep = max - suffix.length - HASH_LENGTH - 1;
  if (keep < 1) throw new Error(`no room for a name of at most ${max} characters ending in ${suffix}`);
  // A cut can end on '-' or '.', which a DNS name must not have next to another separator.
  return `${prefix.slice(0, keep).replace(/[-.]+$/, "")}-${hash}${suffix}`;
}
