// @testbed control
/**
 * Mistakes in Serves and ServeEnvironments, refused with the field or the flag named: by the apiserver
 * (the CRD schema and its CEL rules, as kubectl shows them) and by hermes before it sends anything.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import { kubectl } from "../../test-e2e/support/kubectl.ts";
import { SERVES } from "./reconciler.ts";
import { hermes, hermesOk } from "./testing/hermes.ts";

const RUN = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
const ENV = `serve-api-${RUN}`;
const MODEL = "iris";
let namespace: string;
let home: string;

const tb = useTestbed({ namespace: "serve-api", cleanup: [SERVES] });

beforeAll(async () => {
  namespace = tb.namespace;
  tb.defer(async () => {
    for (const env of [ENV, `bad-${RUN}`])
      await kubectl(["delete", "serveenvironment", env, "--ignore-not-found", "--wait=false"]);
  });
  home = mkdtempSync(join(tmpdir(), "hermes-"));
  await hermesOk(
    ["create-environment", "--name", ENV, "--domain-suffix", ".local", "--namespace", namespace],
    home,
  );
  await hermesOk(["create-serve", "--name", "iris-classifier", "--env", ENV, "--space", namespace], home);
}, 60_000);

describe("mistakes are refused with the field or flag named", () => {
  const base = () => ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "Serve",
    metadata: { name: "bad", namespace },
    spec: {
      environment: ENV,
      type: "api",
      model: { uri: `models:/${MODEL}/1` },
      resources: { cores: 1, memory: "2Gi" },
      replicas: { min: 1, max: 2 },
    },
  });
  const env = () => ({
    apiVersion: "darwin.dreamhorizon.org/v1alpha1",
    kind: "ServeEnvironment",
    metadata: { name: `bad-${RUN}` },
    spec: { domainSuffix: ".local", namespace },
  });
  type Manifest = ReturnType<typeof base> & { spec: Record<string, unknown> };
  const serveCase = (change: (m: Manifest) => void) => {
    const m = base() as Manifest;
    change(m);
    return m;
  };
  const envCase = (spec: Record<string, unknown>) => ({ ...env(), spec: { ...env().spec, ...spec } });

  it.each([
    [
      "replicas.min above max",
      serveCase((m) => (m.spec.replicas = { min: 3, max: 2 })),
      "replicas.min must be less than or equal to replicas.max",
    ],
    ["an unknown type", serveCase((m) => (m.spec.type = "grpc")), 'spec.type: Unsupported value: "grpc"'],
    [
      "more than 256 cores",
      serveCase((m) => (m.spec.resources = { cores: 300, memory: "2Gi" })),
      "spec.resources.cores",
    ],
    [
      "zero cores",
      serveCase((m) => (m.spec.resources = { cores: 0, memory: "2Gi" })),
      "spec.resources.cores",
    ],
    [
      "an http model URI",
      serveCase((m) => (m.spec.model = { uri: "http://mlflow/models/iris" })),
      "spec.model.uri",
    ],
    [
      "image and artifactBuildRef",
      serveCase((m) =>
        Object.assign(m.spec, { image: "registry.example.com/iris:1", artifactBuildRef: { name: "iris" } }),
      ),
      "set either image or artifactBuildRef, not both",
    ],
    [
      "scaled to zero",
      serveCase((m) => Object.assign(m.spec, { replicas: { min: 0, max: 1 } })),
      "replicas.min 0 (scale to zero) is not supported",
    ],
    [
      "no environment",
      serveCase((m) => delete (m.spec as Record<string, unknown>).environment),
      "spec.environment: Required value",
    ],
    ["a 64-character name", serveCase((m) => (m.metadata.name = "a".repeat(64))), "metadata.name"],
    [
      "an unknown capacity",
      serveCase((m) => (m.spec.capacity = "reserved")),
      'spec.capacity: Unsupported value: "reserved"',
    ],
    ["an environment domain with '_'", envCase({ domainSuffix: "my_domain" }), "spec.domainSuffix"],
    ["an environment default capacity", envCase({ defaultCapacity: "cheap" }), "spec.defaultCapacity"],
    [
      "an environment MLflow without scheme",
      envCase({ mlflowTrackingURI: "mlflow:5000" }),
      "spec.mlflowTrackingURI",
    ],
  ])("the apiserver refuses %s", async (_, manifest, message) => {
    const result = await kubectl(["apply", "-f", "-"], manifest);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(message);
  });

  it.each([
    [
      ["deploy-model", "--serve-name", "nowhere", "--model-uri", "models:/iris/1"],
      "--serve-name: Serve nowhere does not exist in namespace",
    ],
    [
      [
        "deploy-model",
        "--serve-name",
        "iris-classifier",
        "--model-uri",
        "models:/iris/1",
        "--min-replicas",
        "3",
        "--max-replicas",
        "2",
      ],
      "--min-replicas 3 is more than --max-replicas 2",
    ],
    [
      ["create-serve", "--name", "lost", "--env", ENV, "--description", "x".repeat(1025)],
      "--description (spec.description)",
    ],
    [["rollback", "--serve-name", "iris-classifier"], "has no previous revision to return to"],
  ])("hermes refuses %s before the apiserver does", async (args, message) => {
    const result = await hermes([...(args as string[]), "--space", namespace], home);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });
});
