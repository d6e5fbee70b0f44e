/**
 * Helpers for the operator's integration tests against the testbed apiserver: a client, the test kind,
 * reading and writing objects, polling for conditions, counting the operator's requests, and an in-process
 * manager. Setup and teardown (namespace, operators, cleanup) are test-e2e/support/fixture.ts.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import type { Logger } from "pino";
import { API_VERSION, ChronosTransformer, GROUP } from "../../crds/src/index.ts";
import { loadTestbedEnv } from "../../test-e2e/support/testbed-env.ts";
import { waitFor } from "../../test-e2e/support/wait.ts";
import { isNotFound } from "../api-error.ts";
import { findCondition } from "../conditions.ts";
import { type OperatorConfig, parseConfig } from "../config.ts";
import type { ControllerDefinition } from "../controller.ts";
import { KubeClient, type RequestRecord } from "../kube-client.ts";
import { createLogger, silentLogger } from "../logger.ts";
import { Manager } from "../manager.ts";
import { OperatorMetrics } from "../metrics.ts";
import { type KubeObject, type ResourceType, resourcePath, resourceType } from "../resource.ts";

export { waitFor } from "../../test-e2e/support/wait.ts";

export const REPO = join(import.meta.dirname, "..", "..");
/** Finalizers of test controllers: `<group>/<controller name>`, as in Darwin. */
export const FINALIZER_PREFIX = GROUP;
/** The kind the runtime's tests reconcile (any CRD would do; this one is installed with Darwin's). */
export const CHRONOS = resourceType(API_VERSION, ChronosTransformer);
export const CONFIG_MAPS: ResourceType = {
  apiVersion: "v1",
  kind: "ConfigMap",
  plural: "configmaps",
  namespaced: true,
};
const _CRDS: ResourceType = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  plural: "customresourcedefinitions",
  namespaced: false,
};

/** Puts the testbed's endpoints (KUBECONFIG...) into process.env when the global setup did not. */
export function testbedEnv(): void {
  for (const [name, value] of Object.entries(loadTestbedEnv())) process.env[name] ??= value;
  if (!process.env.KUBECONFIG) throw new Error("the testbed is not up: run hack/testbed up control");
}

export function testbedClient(userAgent = "darwin-operator-test"): KubeClient {
  testbedEnv();
  return KubeClient.load({ kubeconfig: process.env.KUBECONFIG, userAgent });
}

/** Logs of the code under test: silent unless DARWIN_TEST_LOG names a level. */
export function testLogger(): Logger {
  const level = process.env.DARWIN_TEST_LOG;
  return level ? createLogger(level as "debug") : silentLogger();
}

export async function getObject(
  client: KubeClient,
  type: ResourceType,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await client.requestObject({ method: "GET", path: resourcePath(type, namespace, name) });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A ChronosTransformer for tests. */
export function chronosTransformer(
  namespace: string,
  name: string,
  source = "test-source",
  annotations: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: CHRONOS.apiVersion,
    kind: CHRONOS.kind,
    metadata: { name, namespace, annotations },
    spec: { source, transform: '{"entities": []}' },
  };
}

export async function createObject(
  client: KubeClient,
  type: ResourceType,
  object: KubeObject,
): Promise<KubeObject> {
  return client.requestObject({
    method: "POST",
    path: resourcePath(type, object.metadata.namespace),
    body: object,
  });
}

/** Merge-patches an object as a user (or another controller) would. */
export async function mergePatch(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  name: string,
  patch: unknown,
  subresource?: string,
) {
  return client.requestObject({
    method: "PATCH",
    path: resourcePath(type, namespace, name, subresource),
    contentType: "application/merge-patch+json",
    body: patch,
  });
}

/** Records every request a client makes, to count the operator's writes. */
export function recordRequests(client: KubeClient): {
  records: RequestRecord[];
  writes: () => RequestRecord[];
  stop: () => void;
} {
  const records: RequestRecord[] = [];
  const stop = client.observe((r) => records.push(r));
  return { records, writes: () => records.filter((r) => r.method !== "GET"), stop };
}

/** Config for tests: everything fast, watching one namespace, no leader election unless asked. */
export function testConfig(namespace: string, overrides: Record<string, unknown> = {}): OperatorConfig {
  return parseConfig({
    namespaces: [namespace],
    workers: 2,
    shutdownTimeoutSeconds: 5,
    leaderElection: { enabled: false },
    http: { port: 0, host: "127.0.0.1" },
    watch: { maxBackoffSeconds: 1 },
    ...overrides,
  });
}

export interface TestManager {
  manager: Manager;
  client: KubeClient;
  metrics: OperatorMetrics;
  stop(): Promise<void>;
}

/**
 * A manager running `controllers` in this process, against the testbed: as the admin, or as whoever
 * `kubeconfig` names (a service account, to test its RBAC).
 */
export async function startManager(
  controllers: ControllerDefinition[],
  config: OperatorConfig,
  options: { kubeconfig?: string } = {},
): Promise<TestManager> {
  const client = options.kubeconfig
    ? KubeClient.load({ kubeconfig: options.kubeconfig, userAgent: "darwin-operator" })
    : testbedClient("darwin-operator");
  const metrics = new OperatorMetrics({ processMetrics: false });
  const manager = new Manager({
    client,
    config,
    log: testLogger(),
    metrics,
    identity: `test_${process.pid}`,
    finalizerPrefix: FINALIZER_PREFIX,
  });
  for (const controller of controllers) manager.register(controller);
  await manager.start();
  return {
    manager,
    client,
    metrics,
    stop: async () => {
      await manager.stop();
      client.close();
    },
  };
}

/** Runs hack/testbed with arguments (stop, kill, up...). */
export function testbed(...args: string[]): void {
  execFileSync(join(REPO, "hack", "testbed"), args, {
    cwd: REPO,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 300_000,
  });
}

/** The value of a metric sample in Prometheus text, summed over samples matching all `labels`. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

/** Total reconciles (any result) the manager's controllers finished. */
export async function reconcileCount(metrics: OperatorMetrics, controller = "mirror"): Promise<number> {
  return metricValue(await metrics.registry.metrics(), "controller_runtime_reconcile_total", { controller });
}

/** Whether no controller has work queued or in flight. */
export function idle(manager: Manager): boolean {
  return manager.controllers.every((c) => c.queue.length === 0 && c.queue.inFlight === 0);
}

/**
 * Waits until the operator's cache holds `object`'s current version (or a newer one) and no reconcile is
 * queued or running: everything the change causes has happened.
 */
export async function settled(
  tm: TestManager,
  type: ResourceType,
  namespace: string,
  name: string,
): Promise<void> {
  const client = testbedClient();
  const live = await getObject(client, type, namespace, name);
  client.close();
  await waitFor(`${type.kind} ${namespace}/${name} settled`, () => {
    const cached = tm.manager.informer(type, namespace)?.get(namespace, name);
    const caughtUp = live
      ? cached !== undefined &&
        Number(cached.metadata.resourceVersion) >= Number(live.metadata.resourceVersion)
      : cached === undefined;
    return caughtUp && idle(tm.manager);
  });
}

export interface TestEvent {
  type: string;
  reason: string;
  note: string;
  action: string;
  reportingController: string;
  regarding: { name: string };
  series?: { count: number };
}

/** The events.k8s.io/v1 Events about an object. */
export async function eventsAbout(client: KubeClient, namespace: string, name: string): Promise<TestEvent[]> {
  const list = (await client.request({
    method: "GET",
    path: `/apis/events.k8s.io/v1/namespaces/${namespace}/events`,
  })) as {
    items: TestEvent[];
  };
  return list.items.filter((e) => e.regarding.name === name);
}

/** The Ready condition of an object as the server has it. */
export async function readyCondition(
  client: KubeClient,
  type: ResourceType,
  namespace: string,
  name: string,
) {
  const object = await getObject(client, type, namespace, name);
  const status = object?.status as { conditions?: Parameters<typeof findCondition>[0] } | undefined;
  return findCondition(status?.conditions, "Ready");
}
