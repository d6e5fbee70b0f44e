/** Model URIs a Serve names, parsed into what MLflow resolves them with. Pure. */

export type ModelRef =
  | { kind: "registry-alias"; name: string; alias: string }
  | { kind: "registry-version"; name: string; version: string }
  | { kind: "registry-stage"; name: string; stage: string }
  | { kind: "run"; runId: string; path: string }
  | { kind: "artifacts"; path: string }
  | { kind: "s3"; uri: string };

/**
 * `models:/name@alias`, `models:/name/3`, `models:/name/Production`, `runs:/<run>/<path>`,
 * `mlflow-artifacts:/<path>`, `s3://bucket/key`; undefined for anything else.
 */
export function parseModelURI(uri: string): ModelRef | undefined {
  let match = /^models:\/([^/@\s]+)@([A-Za-z0-9_-]+)$/.exec(uri);
  if (match?.[1] && match[2]) return { kind: "registry-alias", name: match[1], alias: match[2] };
  match = /^models:\/([^/@\s]+)\/([^/@\s]+)$/.exec(uri);
  if (match?.[1] && match[2]) {
    return /^[0-9]+$/.test(match[2])
      ? { kind: "registry-version", name: match[1], version: match[2] }
      : { kind: "registry-stage", name: match[1], stage: match[2] };
  }
  match = /^runs:\/([0-9a-f]{32})\/(\S+)$/.exec(uri);
  if (match?.[1] && match[2]) return { kind: "run", runId: match[1], path: match[2] };
  match = /^mlflow-artifacts:\/+(\S+)$/.exec(uri);
  if (match?.[1]) return { kind: "artifacts", path: match[1] };
  if (/^s3:\/\/\S+$/.test(uri)) return { kind: "s3", uri };
  return undefined;
}

/** The URI of one registered model version: what a revision pins an alias or stage to. */
export const pinnedModelURI = (name: string, version: string): string => `models:/${name}/${version}`;

/** True when the URI follows something that can move (an alias or a stage) and must be checked again. */
export const isMovable = (ref: ModelRef): boolean =>
  ref.kind === "registry-alias" || ref.kind === "registry-stage";
