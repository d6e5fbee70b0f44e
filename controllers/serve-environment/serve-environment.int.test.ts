// @testbed control
/**
 * The ServeEnvironment controller and the Serve controller together on the testbed's apiserver: the
 * environment reports which Serves use it as they come and go, a Serve outside its namespace makes it
 * not Ready, and its defaultResources reach the Deployments of Serves that set none (field by field),
 * again when the defaults change. Models are s3:// URIs, which deploy without MLflow.
 *
 * The controller is cluster-scoped: while this file runs it also writes the status of other tests'
 * environments (counting only the Serves of the namespaces it watches). No other test reads that status.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "../../operator/kube-client.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import { servingConfig } from "../serve/config.ts";
import { createServeController, SERVE_ENVIRONMENTS, SERVES } from "../serve/reconciler.ts";
import type { ServeStatus } from "../serve/revisions.ts";
import { hermesOk } from "../serve/testing/hermes.ts";
import { DEPLOYMENTS } from "../shared/resource-types.ts";
import { createServeEnvironmentController } from "./reconciler.ts";
import type { ServeEnvironmentStatus } from "./status.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `senv-it-${RUN}`;
const MODEL = "s3://darwin-models/iris/1/";
const SLOW = { timeoutMs: 60_000, intervalMs: 250 };

let client: KubeClient;
let namespace: string;
let elsewhere: string;
let home: string;

const environmentStatus = async () =>
  ((await getObject(client, SERVE_ENVIRONMENTS, undefined, ENV))?.status ?? {}) as ServeEnvironmentStatus;

/** Waits until the environment reports exactly these Serves (namespace/name). */
const untilServes = (serves: string[]) =>
  waitFor(
    `ServeEnvironment ${ENV} to report ${serves.join(", ") || "no Serves"}`,
    async () => {
      const status = await environmentStatus();
      return JSON.stringify(status.serves ?? []) === JSON.stringify([...serves].sort()) ? status : undefined;
    },
    SLOW,
  );

/** The requests of the model server container of a Serve's Deployment, once it runs `revision`. */
const requestsOf = (name: string, revision: number) =>
  waitFor(
    `Deployment ${name} at revision ${revision}`,
    async () => {
      const status = (await getObject(client, SERVES, namespace, name))?.status as ServeStatus | undefined;
      if (status?.currentRevision?.number !== revision) return undefined;
      const deployment = (await getObject(client, DEPLOYMENTS, namespace, name)) as
        | { spec: { template: { spec: { containers: Array<{ resources: { requests: object } }> } } } }
        | undefined;
      return deployment?.spec.template.spec.containers[0]?.resources.requests;
    },
    SLOW,
  );

const deploy = (name: string, ...extra: string[]) =>
  hermesOk(
    ["deploy-model", "--serve-name", name, "--model-uri", MODEL, "--space", namespace, "--no-wait", ...extra],
    home,
  );

const tb = useTestbed({ namespace: "senv-it", cleanup: [SERVES] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  elsewhere = await tb.createNamespace("senv-it-other");
  home = mkdtempSync(join(tmpdir(), "hermes-"));
  tb.defer(() => kubectl(["delete", "serveenvironment", ENV, "--ignore-not-found", "--wait=false"]));
  await tb.startOperator(
    [createServeController({ serving: servingConfig.parse({}) }), createServeEnvironmentController()],
    { namespaces: [namespace, elsewhere] },
  );
}, 60_000);

describe("ServeEnvironment", () => {
  it("reports the Serves that use it as they come and go, and is not Ready while one is outside its namespace", async () => {
    await hermesOk(
      [
        "create-environment",
        "--name",
        ENV,
        "--domain-suffix",
        ".local",
        "--cluster-name",
        "kind",
        "--namespace",
        namespace,
        "--default-cores",
        "0.5",
        "--default-memory",
        "1Gi",
      ],
      home,
    );
    const empty = await untilServes([]);
    expect(empty.serveCount).toBe(0);
    expect(empty.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "True",
      message: `0 Serves in namespace ${namespace} use this environment.`,
    });

    for (const name of ["iris", "housing"])
      await hermesOk(["create-serve", "--name", name, "--env", ENV, "--space", namespace], home);
    const two = await untilServes([`${namespace}/housing`, `${namespace}/iris`]);
    expect(two.serveCount).toBe(2);
    // kubectl get senv shows the count in its Serves column.
    const [header, row] = (await kubectlOk(["get", "serveenvironment", ENV])).trim().split("\n");
    const cells = (line = "") => line.trim().split(/\s+/);
    expect(cells(row)[cells(header).indexOf("SERVES")]).toBe("2");

    // The webhook refuses this; a Serve made while it was down still shows up.
    await kubectlOk(["apply", "-f", "-"], {
      apiVersion: "darwin.dreamhorizon.org/v1alpha1",
      kind: "Serve",
      metadata: { name: "stray", namespace: elsewhere },
      spec: { environment: ENV },
    });
    const misplaced = await waitFor(
      "the environment to name the stray Serve",
      async () => {
        const ready = (await environmentStatus()).conditions?.find((c) => c.type === "Ready");
        return ready?.status === "False" ? ready : undefined;
      },
      SLOW,
    );
    expect(misplaced).toMatchObject({
      reason: "ServesOutsideNamespace",
      message: `Serves outside namespace ${namespace} name this environment: ${elsewhere}/stray; recreate them in ${namespace}.`,
    });

    await kubectlOk(["delete", "serve", "stray", "-n", elsewhere]);
    await kubectlOk(["delete", "serve", "housing", "-n", namespace]);
    const one = await untilServes([`${namespace}/iris`]);
    expect(one.serveCount).toBe(1);
    expect(one.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
  }, 120_000);

  it("gives its default resources to Serves that set none, field by field, and rolls them out when they change", async () => {
    await hermesOk(["create-serve", "--name", "light", "--env", ENV, "--space", namespace], home);
    await hermesOk(["create-serve", "--name", "heavy", "--env", ENV, "--space", namespace], home);
    await deploy("light");
    await deploy("heavy", "--cores", "2");

    expect(await requestsOf("light", 1)).toEqual({ cpu: "500m", memory: "1Gi" });
    expect(await requestsOf("heavy", 1)).toEqual({ cpu: "2", memory: "1Gi" });
    const light = (await getObject(client, SERVES, namespace, "light"))?.status as ServeStatus;
    expect(light.currentRevision).toMatchObject({ cores: 0.5, memory: "1Gi" });

    await kubectlOk([
      "patch",
      "serveenvironment",
      ENV,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { defaultResources: { memory: "3Gi" } } }),
    ]);
    expect(await requestsOf("light", 2)).toEqual({ cpu: "500m", memory: "3Gi" });
    expect(await requestsOf("heavy", 2)).toEqual({ cpu: "2", memory: "3Gi" });
  }, 120_000);
});
