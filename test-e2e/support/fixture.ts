/**
 * The setup and teardown every integration test file against the testbed apiserver shares: an admin
 * client, a namespace of its own, operators started in this process, and a teardown that leaves nothing
 * running or stuck behind. `useTestbed()` registers them with vitest's beforeAll/afterAll:
 *
 *   const tb = useTestbed({ namespace: "dc", cleanup: [DARWIN_CLUSTERS] });
 *   beforeAll(async () => { await tb.startOperator([createDarwinClusterController()]); });
 *   it("...", async () => { await tb.client.request(...); ... tb.namespace ... });
 *
 * Teardown runs in this order: the `beforeStop` cleanups (operators still running), the operators stop,
 * the `defer` cleanups, then the `cleanup` kinds and the namespaces go. Cleanups of one kind run last in,
 * first out.
 */
import { afterAll, beforeAll } from "vitest";
import type { ControllerDefinition } from "../../operator/controller.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { type KubeObject, type ResourceType, resourcePath } from "../../operator/resource.ts";
import { startManager, type TestManager, testbedClient, testConfig } from "../../operator/testing/testbed.ts";

const NAMESPACES: ResourceType = {
  apiVersion: "v1",
  kind: "Namespace",
  plural: "namespaces",
  namespaced: false,
};

export interface TestbedOptions {
  /** Prefix of a namespace created for the file (a unique suffix is added); none creates no namespace. */
  namespace?: string;
  /** More labels of that namespace (e.g. what a webhook configuration's namespaceSelector matches). */
  labels?: Record<string, string>;
  /**
   * Kinds whose objects in the namespace are deleted at teardown, finalizers removed first: the operator
   * that would remove them is stopped by then, and the control tier runs no namespace controller.
   */
  cleanup?: ResourceType[];
}

export interface Testbed {
  /** The admin client (closed at teardown). */
  readonly client: KubeClient;
  /** The file's namespace (when `namespace` was given). */
  readonly namespace: string;
  /**
   * Starts a manager running `controllers` in this process, watching the file's namespace; stopped at
   * teardown. `overrides` change the test configuration (testConfig); `kubeconfig` runs it as someone
   * other than the admin.
   */
  startOperator(
    controllers: ControllerDefinition[],
    overrides?: Record<string, unknown>,
    options?: { kubeconfig?: string },
  ): Promise<TestManager>;
  /** Another namespace of the file's (a unique suffix is added), cleaned up and deleted like the first. */
  createNamespace(prefix: string): Promise<string>;
  /** Runs `cleanup` at teardown, after the operators stopped and before the namespace goes (last in, first out). */
  defer(cleanup: () => Promise<unknown> | unknown): void;
  /**
   * Runs `cleanup` at teardown while the operators still run (last in, first out): deleting objects whose
   * finalizer an operator must remove, so that what it cleans up elsewhere (index rows, tables) goes too.
   */
  beforeStop(cleanup: () => Promise<unknown> | unknown): void;
}

/** A unique namespace name with a readable prefix. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e4)}`;
}

export async function createNamespace(
  client: KubeClient,
  prefix: string,
  labels: Record<string, string> = {},
): Promise<string> {
  const name = uniqueName(prefix);
  await client.request({
    method: "POST",
    path: resourcePath(NAMESPACES),
    body: {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: { "darwin.dreamhorizon.org/test": prefix, ...labels } },
    },
  });
  return name;
}

/** Deletes every object of `type` in the namespace, removing finalizers first. */
export async function deleteAll(client: KubeClient, type: ResourceType, namespace: string): Promise<void> {
  const list = (await client.request({ method: "GET", path: resourcePath(type, namespace) })) as {
    items: KubeObject[];
  };
  for (const item of list.items) {
    const path = resourcePath(type, namespace, item.metadata.name);
    if (item.metadata.finalizers?.length) {
      await client
        .request({
          method: "PATCH",
          path,
          contentType: "application/merge-patch+json",
          body: { metadata: { finalizers: null } },
        })
        .catch(() => undefined);
    }
    await client.request({ method: "DELETE", path }).catch(() => undefined);
  }
}

/** Deletes a namespace without waiting (on the control tier it stays Terminating; its name is unique). */
export async function deleteNamespace(client: KubeClient, namespace: string): Promise<void> {
  await client
    .request({ method: "DELETE", path: resourcePath(NAMESPACES, undefined, namespace) })
    .catch(() => undefined);
}

export function useTestbed(options: TestbedOptions = {}): Testbed {
  let client: KubeClient | undefined;
  let namespace: string | undefined;
  const namespaces: string[] = [];
  const operators: TestManager[] = [];
  const deferred: Array<() => Promise<unknown> | unknown> = [];
  const beforeStop: Array<() => Promise<unknown> | unknown> = [];

  beforeAll(async () => {
    client = testbedClient();
    if (options.namespace) {
      namespace = await createNamespace(client, options.namespace, options.labels);
      namespaces.push(namespace);
    }
  });

  afterAll(async () => {
    // Every step runs even when one before it failed, so a failed cleanup leaves no operator running and
    // no namespace behind; the failures are reported together at the end.
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown> | unknown) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    for (const cleanup of beforeStop.splice(0).reverse()) await attempt(cleanup);
    for (const operator of operators.splice(0).reverse()) await attempt(() => operator.stop());
    for (const cleanup of deferred.splice(0).reverse()) await attempt(cleanup);
    client?.close();
    if (namespaces.length > 0) {
      // A client of its own: a test may have restarted the apiserver under the first one's connections.
      const cleaner = testbedClient();
      for (const ns of namespaces.splice(0)) {
        for (const type of options.cleanup ?? []) await deleteAll(cleaner, type, ns).catch(() => undefined);
        await deleteNamespace(cleaner, ns);
      }
      cleaner.close();
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} teardown steps failed`);
  });

  return {
    get client() {
      if (!client) throw new Error("the testbed client is made in beforeAll: use it inside hooks and tests");
      return client;
    },
    get namespace() {
      if (!namespace)
        throw new Error("no namespace: pass useTestbed({ namespace: prefix }), use it after beforeAll");
      return namespace;
    },
    async startOperator(controllers, overrides = {}, startOptions = {}) {
      const operator = await startManager(controllers, testConfig(this.namespace, overrides), startOptions);
      operators.push(operator);
      return operator;
    },
    async createNamespace(prefix) {
      const ns = await createNamespace(this.client, prefix);
      namespaces.push(ns);
      return ns;
    },
    defer(cleanup) {
      deferred.push(cleanup);
    },
    beforeStop(cleanup) {
      beforeStop.push(cleanup);
    },
  };
}
