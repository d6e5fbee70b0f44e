import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import type { LookupSource } from "../api/validation/context.ts";
import { cpuRuntime, localEnvironment } from "../api/validation/fixtures.ts";
import { API_VERSION, GROUP, VERSION } from "../crds/src/index.ts";
import type { AdmissionReviewResponse } from "./admission.ts";
import { buildApp, validatePath, type WebhookApp } from "./app.ts";

const lookups: LookupSource = {
  runtimes: async () => [cpuRuntime],
  serveEnvironments: async () => [localEnvironment],
};

const cluster = (spec: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({
  apiVersion: API_VERSION,
  kind: "DarwinCluster",
  metadata: { name: "housing", namespace: "team-a", ...metadata },
  spec: {
    runtime: "Ray2.37.0-Py310-CPU",
    owner: "user@example.com",
    head: { cores: 4, memory: "8Gi" },
    workerGroups: [{ name: "default", cores: 2, memory: 4 }],
    ...spec,
  },
});

function admissionReview(
  operation: string,
  object: unknown,
  oldObject?: unknown,
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group: GROUP, version: VERSION, kind: "DarwinCluster" },
      resource: { group: GROUP, version: VERSION, resource: "darwinclusters" },
      name: "housing",
      namespace: "team-a",
      operation,
      userInfo: { username: "alice" },
      object,
      oldObject: oldObject ?? null,
      dryRun: false,
      ...extra,
    },
  };
}

async function post(body: unknown, built?: WebhookApp) {
  const app = built ?? (await buildApp({ lookups }));
  const reply = await app.inject({ method: "POST", url: validatePath("darwinclusters"), body });
  return { status: reply.statusCode, review: reply.json<AdmissionReviewResponse>() };
}

describe("admission server", () => {
  it("allows a valid object, echoing the request uid", async () => {
    const { status, review } = await post(admissionReview("CREATE", cluster({})));
    expect(status).toBe(200);
    expect(review).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "705ab4f5-6393-11e8-b7cc-42010a800002", allowed: true },
    });
  });

  it("denies an invalid object with every field error in one message and as causes", async () => {
    const invalid = cluster({
      runtime: "Ray9.9.9",
      head: { cores: 4, memory: "256Mi" },
      workerGroups: [{ name: "gpu", cores: 2, memory: 4, gpus: 1 }],
    });
    const { review } = await post(admissionReview("CREATE", invalid));
    expect(review.response.allowed).toBe(false);
    expect(review.response.uid).toBe("705ab4f5-6393-11e8-b7cc-42010a800002");
    expect(review.response.status).toMatchObject({ status: "Failure", code: 422, reason: "Invalid" });
    expect(review.response.status?.message).toMatch(
      /^2 errors: \(1\) spec\.runtime: DarwinRuntime "Ray9\.9\.9" does not exist; set it to .* \(2\) spec\.head\.memory: "256Mi" is 256Mi, less than/,
    );
    expect(review.response.status?.details).toMatchObject({
      name: "housing",
      group: GROUP,
      kind: "DarwinCluster",
      causes: [
        { reason: "FieldValueInvalid", field: "spec.runtime" },
        { reason: "FieldValueInvalid", field: "spec.head.memory" },
      ],
    });
  });

  it("lets metadata-only updates, status updates, deletes and objects being deleted through unjudged", async () => {
    const broken = cluster({ runtime: "gone" });
    const relabelled = cluster({ runtime: "gone" }, { labels: { team: "a" } });
    const deleting = cluster({ runtime: "gone2" }, { deletionTimestamp: "2030-01-01T00:00:00Z" });
    for (const body of [
      admissionReview("UPDATE", relabelled, broken),
      admissionReview("UPDATE", deleting, broken),
      admissionReview("UPDATE", cluster({ runtime: "gone2" }), broken, { subResource: "status" }),
      admissionReview("DELETE", null, broken),
    ]) {
      expect((await post(body)).review.response.allowed).toBe(true);
    }
  });

  it("warns on an update that keeps a runtime which no longer exists", async () => {
    const old = cluster({ runtime: "gone" });
    const { review } = await post(
      admissionReview("UPDATE", cluster({ runtime: "gone", suspend: true }), old),
    );
    expect(review.response).toMatchObject({
      allowed: true,
      warnings: [expect.stringMatching(/no longer exists/)],
    });
  });

  it("refuses with 503 when the referenced resources cannot be read", async () => {
    const app = await buildApp({
      lookups: { ...lookups, runtimes: () => Promise.reject(new Error("connection refused")) },
    });
    const { review } = await post(admissionReview("CREATE", cluster({})), app);
    expect(review.response).toMatchObject({
      allowed: false,
      status: { code: 503, reason: "ServiceUnavailable" },
    });
    expect(review.response.status?.message).toMatch(
      /could not read runtimes .*connection refused; retry shortly/,
    );
  });

  it("answers bad requests with HTTP errors the API server reports as webhook failures", async () => {
    const app = await buildApp({ lookups });
    expect(
      (await app.inject({ method: "POST", url: validatePath("darwinclusters"), body: "{" })).statusCode,
    ).toBe(400);
    expect(
      (await app.inject({ method: "POST", url: validatePath("darwinclusters"), body: { kind: "Pod" } }))
        .statusCode,
    ).toBe(400);
    const wrongResource = admissionReview("CREATE", cluster({}));
    wrongResource.request.resource.resource = "serves";
    expect(
      (await app.inject({ method: "POST", url: validatePath("darwinclusters"), body: wrongResource }))
        .statusCode,
    ).toBe(400);
    expect((await app.inject({ method: "POST", url: "/validate/x", body: {} })).statusCode).toBe(404);
    expect((await app.inject({ method: "GET", url: validatePath("darwinclusters") })).statusCode).toBe(405);
    expect((await app.inject({ method: "GET", url: "/healthz" })).body).toBe("ok");
  });

  it("routes every kind and counts requests in controller-runtime's metrics", async () => {
    const registry = new Registry();
    const app = await buildApp({ lookups, registry });
    await post(admissionReview("CREATE", cluster({})), app);
    const metrics = await registry.metrics();
    expect(metrics).toContain(
      `controller_runtime_webhook_requests_total{webhook="/validate/${GROUP}/${VERSION}/darwinclusters",code="200"} 1`,
    );
    for (const plural of [
      "darwinruntimes",
      "featuregroups",
      "serves",
      "serveenvironments",
      "artifactbuilds",
      "chronostransformers",
      "catalogassets",
    ]) {
      expect((await app.inject({ method: "POST", url: validatePath(plural), body: "{" })).statusCode).toBe(
        400,
      );
    }
    // A second app on the same registry reuses the metrics instead of failing to register them.
    await expect(buildApp({ lookups, registry })).resolves.toBeDefined();
  });
});
