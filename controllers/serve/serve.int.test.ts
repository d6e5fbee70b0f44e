// @testbed cluster data
/**
 * Model serving end to end on the testbed: a scikit-learn iris model trained and registered in the real
 * MLflow, the seed's quick-start commands run through the hermes command, and the Serve controller in this
 * process deploying onto KWOK nodes. Then what happens to a running Serve: its alias moves, it is pointed
 * at a model that does not exist, a rollout never becomes available and is rolled back; hermes's manifests
 * applied by kubectl equal hermes applying them; a ray-serve Serve's RayService is taken up by KubeRay.
 * Refusals of bad specs and flags are in serve-api.int.test.ts (apiserver only).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { KubeClient } from "../../operator/kube-client.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { getObject, waitFor } from "../../operator/testing/testbed.ts";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl, kubectlOk } from "../../test-e2e/support/kubectl.ts";
import {
  DEPLOYMENTS,
  HORIZONTAL_POD_AUTOSCALERS,
  INGRESSES,
  RAY_CLUSTERS,
  RAY_SERVICES,
  SERVICES,
} from "../shared/resource-types.ts";
import { servingConfig } from "./config.ts";
import { createServeController, SERVES } from "./reconciler.ts";
import type { ServeStatus } from "./revisions.ts";
import { hermes, hermesOk } from "./testing/hermes.ts";
import { mlflowURL, setAlias, trainIris } from "./testing/mlflow.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `serve-it-${RUN}`;
const SPOT_ENV = `serve-it-spot-${RUN}`;
const DRY_ENV = `serve-it-dry-${RUN}`;
const MODEL = `iris-${RUN}`;
const SLOW = { timeoutMs: 120_000, intervalMs: 500 };

let client: KubeClient;
let namespace: string;
let home: string;

const serve = (name: string) => getObject(client, SERVES, namespace, name);
const statusOf = async (name: string) => ((await serve(name))?.status ?? {}) as ServeStatus;
const condition = (status: ServeStatus, type: string) => status.conditions?.find((c) => c.type === type);

interface Pod {
  metadata: { labels?: Record<string, string>; deletionTimestamp?: string };
  spec: { nodeName?: string };
  status: { phase?: string; conditions?: Array<{ type: string; status: string }> };
}

async function pods(serveName: string, revision?: number): Promise<Pod[]> {
  const selector = `darwin.dreamhorizon.org/serve=${serveName}${revision ? `,darwin.dreamhorizon.org/revision=${revision}` : ""}`;
  const list = (await client.request({
    method: "GET",
    path: `/api/v1/namespaces/${namespace}/pods`,
    query: { labelSelector: selector },
  })) as { items: Pod[] };
  return list.items.filter((p) => !p.metadata.deletionTimestamp);
}

const running = (pod: Pod) =>
  pod.status.phase === "Running" &&
  pod.status.conditions?.some((c) => c.type === "Ready" && c.status === "True");

/** The seed's deploy-model, with this run's names. */
const deployModel = (name: string, uri: string, ...extra: string[]) => [
  "deploy-model",
  "--serve-name",
  name,
  "--model-uri",
  uri,
  "--cores",
  "2",
  "--memory",
  "4",
  "--node-capacity",
  "spot",
  "--min-replicas",
  "1",
  "--max-replicas",
  "2",
  "--space",
  namespace,
  "--timeout",
  "150",
  ...extra,
];

const tb = useTestbed({ namespace: "serve-it", cleanup: [SERVES] });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  tb.defer(async () => {
    for (const env of [ENV, SPOT_ENV, DRY_ENV])
      await kubectl(["delete", "serveenvironment", env, "--ignore-not-found", "--wait=false"]);
  });
  home = mkdtempSync(join(tmpdir(), "hermes-"));
  const serving = servingConfig.parse({
    mlflowTrackingURI: mlflowURL(),
    modelCheckIntervalSeconds: 2,
    rolloutDeadlineSeconds: 20,
  });
  await tb.startOperator([createServeController({ serving })]);
  await trainIris(MODEL, "champion");
}, 240_000);

describe("the seed's quick start through hermes", () => {
  it("deploys the registered iris model: Deployment, Service, HPA and Ingress as asked, pods Running on spot nodes, Ready with the resolved version", async () => {
    expect(
      await hermesOk(["configure"], home, { HERMES_USER_TOKEN: "admin-token-default-change-in-production" }),
    ).toContain("(token set)");
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
      ],
      home,
    );
    await hermesOk(
      [
        "create-serve",
        "--name",
        "iris-classifier",
        "--type",
        "api",
        "--space",
        namespace,
        "--description",
        "Iris classification model",
      ],
      home,
    );
    const deployed = await hermes(deployModel("iris-classifier", `models:/${MODEL}@champion`), home);
    expect(deployed.stderr).toContain(`iris-classifier is Ready: model ${MODEL} version 1, revision 1`);
    expect(deployed.code).toBe(0);

    const deployment = (await getObject(client, DEPLOYMENTS, namespace, "iris-classifier")) as KubeObject;
    const podSpec = (
      deployment.spec as {
        template: { spec: Record<string, unknown> & { containers: Array<Record<string, unknown>> } };
      }
    ).template.spec;
    expect(podSpec.containers[0]?.resources).toEqual({
      requests: { cpu: "2", memory: "4Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
    expect(podSpec.nodeSelector).toEqual({ "darwin.dreamhorizon.org/capacity": "spot" });
    // The autoscaler owns the replicas: the operator never applied them.
    const operatorFields = JSON.stringify(
      deployment.metadata.managedFields?.filter((f) => f.manager === "darwin-operator"),
    );
    expect(operatorFields).not.toContain('"f:replicas"');
    expect(
      (await getObject(client, HORIZONTAL_POD_AUTOSCALERS, namespace, "iris-classifier"))?.spec,
    ).toMatchObject({
      minReplicas: 1,
      maxReplicas: 2,
      scaleTargetRef: { kind: "Deployment", name: "iris-classifier" },
    });
    expect(await getObject(client, SERVICES, namespace, "iris-classifier")).toBeDefined();
    const ingress = await getObject(client, INGRESSES, namespace, "iris-classifier");
    expect(ingress?.spec).toMatchObject({
      ingressClassName: "nginx",
      rules: [{ host: "iris-classifier.local", http: { paths: [{ path: "/iris-classifier" }] } }, {}],
    });

    const live = await waitFor(
      "a running model-server pod",
      async () => (await pods("iris-classifier")).filter(running),
      SLOW,
    );
    expect(live.length).toBeGreaterThanOrEqual(1);
    for (const pod of live) expect(pod.spec.nodeName).toMatch(/^kwok-spot-/);

    const status = await statusOf("iris-classifier");
    expect(status).toMatchObject({
      phase: "Ready",
      capacity: "spot",
      url: "http://iris-classifier.local/iris-classifier/predict",
      resolvedModel: { name: MODEL, version: "1" },
      currentRevision: {
        number: 1,
        modelURI: `models:/${MODEL}/1`,
        modelVersion: "1",
        cores: 2,
        memory: "4Gi",
        capacity: "spot",
      },
    });
    expect(condition(status, "ModelResolved")?.status).toBe("True");
    expect(
      await kubectlOk([
        "wait",
        "--for=condition=Ready",
        "serve/iris-classifier",
        "-n",
        namespace,
        "--timeout=5s",
      ]),
    ).toContain("condition met");

    const listed = await hermesOk(["list", "--space", namespace], home);
    expect(listed).toMatch(
      new RegExp(`iris-classifier\\s+${ENV}\\s+api\\s+Ready\\s+models:/${MODEL}@champion\\s+1\\s+1`),
    );
    expect(
      await hermesOk(["status", "--serve-name", "iris-classifier", "--space", namespace], home),
    ).toContain(`current    revision 1: models:/${MODEL}/1`);
  }, 300_000);

  it("rolls out a new revision when the alias moves, keeping the previous one in status", async () => {
    const v2 = await trainIris(MODEL);
    await setAlias(MODEL, "champion", v2.version);
    const status = await waitFor(
      "revision 2 Ready",
      async () => {
        const s = await statusOf("iris-classifier");
        return s.currentRevision?.modelVersion === "2" && condition(s, "Ready")?.status === "True"
          ? s
          : undefined;
      },
      SLOW,
    );
    expect(status.currentRevision).toMatchObject({ number: 2, modelURI: `models:/${MODEL}/2` });
    expect(status.previousRevision).toMatchObject({ number: 1, modelURI: `models:/${MODEL}/1` });
    expect(status.resolvedModel?.version).toBe("2");
    await waitFor(
      "a running pod of revision 2",
      async () => (await pods("iris-classifier", 2)).some(running),
      SLOW,
    );
  }, 240_000);

  it("leaves the running revision untouched when pointed at a model that does not exist, and says why", async () => {
    const before = (await getObject(client, DEPLOYMENTS, namespace, "iris-classifier")) as KubeObject;
    const result = await hermes(deployModel("iris-classifier", `models:/missing-${RUN}@champion`), home);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("ModelNotFound");
    const status = await statusOf("iris-classifier");
    expect(condition(status, "ModelResolved")).toMatchObject({ status: "False", reason: "ModelNotFound" });
    expect(condition(status, "ModelResolved")?.message).toContain(
      `Revision 2 (models:/${MODEL}/2) is left as it is.`,
    );
    expect(condition(status, "Ready")?.status).toBe("True");
    expect(status.currentRevision?.number).toBe(2);
    const after = (await getObject(client, DEPLOYMENTS, namespace, "iris-classifier")) as KubeObject;
    expect(after.metadata.generation).toBe(before.metadata.generation);
    expect(after.spec).toEqual(before.spec);
  }, 120_000);

  it("keeps the previous revision serving when a rollout never becomes available, and hermes rollback returns to it", async () => {
    const failed = await hermes(
      deployModel("iris-classifier", `models:/${MODEL}@champion`, "--cores", "64"),
      home,
    );
    expect(failed.stderr).toContain("RolloutFailed");
    expect(failed.code).toBe(1);
    const status = await statusOf("iris-classifier");
    expect(status.currentRevision).toMatchObject({ number: 3, cores: 64 });
    expect(status.previousRevision).toMatchObject({ number: 2 });
    expect(condition(status, "Ready")?.message).toContain(
      `Revision 2 (models:/${MODEL}/2) keeps serving; hermes rollback returns to it.`,
    );
    expect((await pods("iris-classifier", 2)).filter(running).length).toBeGreaterThanOrEqual(1);
    expect((await pods("iris-classifier", 3)).some(running)).toBe(false);

    const rolledBack = await hermes(
      ["rollback", "--serve-name", "iris-classifier", "--space", namespace, "--timeout", "120"],
      home,
    );
    expect(rolledBack.stderr).toContain("is Ready");
    expect(rolledBack.code).toBe(0);
    const back = await statusOf("iris-classifier");
    expect(back.currentRevision).toMatchObject({ number: 2, modelURI: `models:/${MODEL}/2`, cores: 2 });
    expect((await serve("iris-classifier"))?.spec).toMatchObject({
      model: { uri: `models:/${MODEL}/2` },
      resources: { cores: 2 },
    });
    await waitFor(
      "revision 3's pods gone",
      async () => (await pods("iris-classifier", 3)).length === 0,
      SLOW,
    );
  }, 300_000);
});

describe("defaults and manifests", () => {
  it("a Serve without a capacity runs on its environment's defaultCapacity, shown in status", async () => {
    await hermesOk(
      [
        "create-environment",
        "--name",
        SPOT_ENV,
        "--domain-suffix",
        ".spot.local",
        "--namespace",
        namespace,
        "--default-capacity",
        "spot",
      ],
      home,
    );
    await hermesOk(["create-serve", "--name", "spot-default", "--env", SPOT_ENV, "--space", namespace], home);
    await hermesOk(
      [
        "deploy-model",
        "--serve-name",
        "spot-default",
        "--model-uri",
        `models:/${MODEL}/1`,
        "--space",
        namespace,
        "--timeout",
        "150",
      ],
      home,
    );
    const live = await serve("spot-default");
    expect(live?.spec).not.toHaveProperty("capacity");
    expect((live?.status as ServeStatus | undefined)?.capacity).toBe("spot");
    const deployment = await getObject(client, DEPLOYMENTS, namespace, "spot-default");
    expect(JSON.stringify(deployment?.spec)).toContain(
      '"nodeSelector":{"darwin.dreamhorizon.org/capacity":"spot"}',
    );
  }, 240_000);

  it("hermes --dry-run -o yaml|json piped to kubectl apply gives the same objects as hermes applying them", async () => {
    const pipe = async (args: string[], output: "yaml" | "json") => {
      const manifest = await hermesOk([...args, "--dry-run", "-o", output], home);
      await kubectlOk(["apply", "-f", "-"], manifest);
    };
    await pipe(
      [
        "create-environment",
        "--name",
        DRY_ENV,
        "--domain-suffix",
        ".local",
        "--cluster-name",
        "kind",
        "--namespace",
        namespace,
      ],
      "json",
    );
    const [dryEnv, env] = await Promise.all(
      [DRY_ENV, ENV].map((n) => kubectlOk(["get", "serveenvironment", n, "-o", "json"])),
    );
    expect(JSON.parse(dryEnv as string).spec).toEqual(JSON.parse(env as string).spec);

    const create = (name: string) => [
      "create-serve",
      "--name",
      name,
      "--env",
      ENV,
      "--type",
      "api",
      "--space",
      namespace,
      "--description",
      "Iris classification model",
    ];
    await pipe(create("dry"), "yaml");
    await hermesOk(create("direct"), home);
    await pipe(deployModel("dry", `models:/${MODEL}/1`), "yaml");
    await hermesOk(deployModel("direct", `models:/${MODEL}/1`, "--no-wait"), home);
    const [dry, direct] = await Promise.all([serve("dry"), serve("direct")]);
    expect(dry?.spec).toEqual(direct?.spec);
    const ready = (name: string) =>
      waitFor(`${name} Ready`, async () => condition(await statusOf(name), "Ready")?.status === "True", SLOW);
    await Promise.all([ready("dry"), ready("direct")]);
    const template = async (name: string) =>
      JSON.stringify((await getObject(client, DEPLOYMENTS, namespace, name))?.spec).replaceAll(
        `"${name}"`,
        '"NAME"',
      );
    expect(await template("dry")).toBe(await template("direct"));
  }, 300_000);
});

describe("ray-serve", () => {
  it("renders a RayService the real KubeRay operator takes up (it creates the Ray cluster for it)", async () => {
    await hermesOk(
      ["create-serve", "--name", "iris-ray", "--type", "ray-serve", "--env", ENV, "--space", namespace],
      home,
    );
    await hermesOk(
      [
        "deploy-model",
        "--serve-name",
        "iris-ray",
        "--model-uri",
        `models:/${MODEL}/1`,
        "--min-replicas",
        "1",
        "--max-replicas",
        "2",
        "--space",
        namespace,
        "--no-wait",
      ],
      home,
    );
    const rayService = await waitFor(
      "the RayService",
      () => getObject(client, RAY_SERVICES, namespace, "iris-ray"),
      SLOW,
    );
    const rayCluster = await waitFor(
      "KubeRay's RayCluster for the RayService",
      async () => {
        const list = (await client.request({
          method: "GET",
          path: `/apis/ray.io/v1/namespaces/${namespace}/${RAY_CLUSTERS.plural}`,
        })) as { items: KubeObject[] };
        return list.items.find((c) =>
          c.metadata.ownerReferences?.some(
            (r) => r.kind === "RayService" && r.uid === rayService.metadata.uid,
          ),
        );
      },
      SLOW,
    );
    expect(JSON.stringify(rayCluster.spec)).toContain("iris-ray-ray-serve-app");
    expect((await statusOf("iris-ray")).phase).toBe("Deploying");
  }, 240_000);
});
