/**
 * Direct access to the testbed's etcd through its JSON gateway, to change the cluster while the apiserver
 * is down (custom resources are stored as JSON under /registry/<group>/<plural>/<namespace>/<name>).
 */
import { requireEnv } from "../../test-e2e/support/testbed-env.ts";
import type { ResourceType } from "../resource.ts";
import { groupOf } from "../resource.ts";

const b64 = (s: string) => Buffer.from(s).toString("base64");

async function call(path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${requireEnv("DARWIN_ETCD_URL")}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`etcd ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

export function storageKey(type: ResourceType, namespace: string, name: string): string {
  return `/registry/${groupOf(type.apiVersion)}/${type.plural}/${namespace}/${name}`;
}

export async function etcdGetJson(key: string): Promise<Record<string, unknown> | undefined> {
  const res = (await call("/v3/kv/range", { key: b64(key) })) as { kvs?: Array<{ value: string }> };
  const value = res.kvs?.[0]?.value;
  return value === undefined ? undefined : JSON.parse(Buffer.from(value, "base64").toString("utf8"));
}

export async function etcdPutJson(key: string, value: unknown): Promise<void> {
  await call("/v3/kv/put", { key: b64(key), value: b64(JSON.stringify(value)) });
}

export async function etcdDelete(key: string): Promise<void> {
  await call("/v3/kv/deleterange", { key: b64(key) });
}
