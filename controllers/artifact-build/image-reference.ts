/** Image references: the registry and repository of `registry/repository:tag@digest`. Pure. */

/** registry, repository and tag or digest of an image reference (Docker Hub's defaults filled in). */
export function parseImageReference(image: string): { registry: string; repository: string } {
  const withoutDigest = image.split("@")[0] ?? image;
  const slash = withoutDigest.indexOf("/");
  const first = slash >= 0 ? withoutDigest.slice(0, slash) : "";
  const hasRegistry = first.includes(".") || first.includes(":") || first === "localhost";
  const registry = hasRegistry ? first : "docker.io";
  let repository = hasRegistry ? withoutDigest.slice(slash + 1) : withoutDigest;
  repository = repository.replace(/:[^/]*$/, "");
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository };
}

/** The reference without its tag or digest, as written (`127.0.0.1:25500/ml/iris:1.0` -> `127.0.0.1:25500/ml/iris`). */
export const imageRepository = (image: string): string =>
  (image.split("@")[0] ?? image).replace(/:[^/]*$/, "");
