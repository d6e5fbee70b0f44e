/**
 * The size of a pushed image, read from its registry (OCI distribution API): the manifest's config and
 * layers as stored (compressed). An index (multi-platform) counts its linux/amd64 manifest, else its first.
 * Anonymous, with the bearer-token dance public registries ask for; responses parsed with zod.
 */
import { z } from "zod";
import { parseImageReference } from "./image-reference.ts";

const Descriptor = z.looseObject({
  mediaType: z.string().optional(),
  digest: z.string(),
  size: z.number().int().min(0),
  platform: z.looseObject({ os: z.string().optional(), architecture: z.string().optional() }).optional(),
});
const Manifest = z.looseObject({
  mediaType: z.string().optional(),
  config: Descriptor.optional(),
  layers: z.array(Descriptor).optional(),
  manifests: z.array(Descriptor).optional(),
});
const Token = z.looseObject({ token: z.string().optional(), access_token: z.string().optional() });

const ACCEPT = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

export async function imageSize(
  image: string,
  digest: string,
  options: { insecure: boolean; signal?: AbortSignal },
): Promise<number> {
  const { registry, repository } = parseImageReference(image);
  const host = registry === "docker.io" ? "registry-1.docker.io" : registry;
  const base = `${options.insecure ? "http" : "https"}://${host}/v2/${repository}`;
  let token: string | undefined;
  const get = async (reference: string) => {
    const url = `${base}/manifests/${reference}`;
    let response = await fetch(url, { headers: headers(token), signal: options.signal ?? null });
    const challenge = response.headers.get("www-authenticate");
    if (response.status === 401 && challenge?.startsWith("Bearer ")) {
      token = await bearerToken(challenge, options.signal);
      response = await fetch(url, { headers: headers(token), signal: options.signal ?? null });
    }
    if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
    return Manifest.parse(await response.json());
  };
  let manifest = await get(digest);
  if (manifest.manifests) {
    const chosen =
      manifest.manifests.find((m) => m.platform?.os === "linux" && m.platform.architecture === "amd64") ??
      manifest.manifests[0];
    if (!chosen) throw new Error(`the index ${digest} lists no manifest`);
    manifest = await get(chosen.digest);
  }
  return (manifest.config?.size ?? 0) + (manifest.layers ?? []).reduce((sum, layer) => sum + layer.size, 0);
}

const headers = (token: string | undefined): Record<string, string> => ({
  Accept: ACCEPT,
  ...(token && { Authorization: `Bearer ${token}` }),
});

/** The anonymous token a `Bearer realm=...,service=...,scope=...` challenge points at. */
async function bearerToken(challenge: string, signal: AbortSignal | undefined): Promise<string> {
  const params = Object.fromEntries(
    [...challenge.slice("Bearer ".length).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
  );
  if (!params.realm) throw new Error(`the registry's challenge names no realm: ${challenge}`);
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set("service", params.service);
  if (params.scope) url.searchParams.set("scope", params.scope);
  const response = await fetch(url, { signal: signal ?? null });
  if (!response.ok) throw new Error(`GET ${url.origin}${url.pathname} answered ${response.status}`);
  const body = Token.parse(await response.json());
  const token = body.token ?? body.access_token;
  if (!token) throw new Error("the registry's token service returned no token");
  return token;
}
