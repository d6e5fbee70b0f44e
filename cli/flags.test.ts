/**
 * Bad flags and values are refused before anything is sent, each message naming the flag and what it
 * accepts, with exit code 2. No cluster is needed: these fail while parsing.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runHermes } from "./program.ts";

async function hermes(args: string[]) {
  let stdout = "";
  let stderr = "";
  const code = await runHermes(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: { HERMES_HOME: "/nonexistent-hermes-home", KUBECONFIG: "/nonexistent-kubeconfig" },
  });
  return { code, stdout, stderr };
}

const DEPLOY = ["deploy-model", "--serve-name", "iris-classifier", "--model-uri", "models:/iris@champion"];

describe("hermes refuses bad flags", () => {
  it.each([
    [
      ["create-serve", "--name", "iris", "--type", "grpc"],
      "'--type <type>' argument 'grpc' is invalid. Allowed choices are api, ray-serve",
    ],
    [["create-serve", "--name", "Iris_Classifier"], "--name must be at most 63 lower-case letters"],
    [["create-serve", "--name", "a".repeat(64)], "--name must be at most 63"],
    [["create-serve"], "required option '--name <name>' not specified"],
    [["create-serve", "--name", "iris", "--space", "Serve"], "--space must be at most 63 lower-case letters"],
    [["create-environment", "--name", "local"], "required option '--domain-suffix <suffix>' not specified"],
    [
      ["create-environment", "--name", "local", "--domain-suffix", ".local", "--default-capacity", "cheap"],
      "Allowed choices are spot, on-demand",
    ],
    [
      ["create-environment", "--name", "local", "--domain-suffix", "local_domain", "--dry-run"],
      "--domain-suffix (spec.domainSuffix)",
    ],
    [
      [
        "create-environment",
        "--name",
        "local",
        "--domain-suffix",
        ".local",
        "--mlflow-tracking-uri",
        "mlflow:5000",
        "--dry-run",
      ],
      "--mlflow-tracking-uri (spec.mlflowTrackingURI)",
    ],
    [
      ["create-environment", "--name", "local", "--domain-suffix", ".local", "--dry-run", "-o", "toml"],
      "Allowed choices are yaml, json",
    ],
    [[...DEPLOY, "--cores", "two"], "--cores must be a positive number, e.g. 2"],
    [[...DEPLOY, "--cores", "-1"], "--cores must be a positive number"],
    [
      [...DEPLOY, "--memory", "4GB"],
      "--memory must be a number of GiB (e.g. 4) or a quantity (e.g. 4Gi, 512Mi)",
    ],
    [[...DEPLOY, "--min-replicas", "0"], "--min-replicas 0 (scale to zero) is not supported"],
    [
      ["create-environment", "--name", "local", "--domain-suffix", ".local", "--default-memory", "lots"],
      "--default-memory must be a number of GiB (e.g. 4) or a quantity (e.g. 4Gi, 512Mi)",
    ],
    [
      ["create-environment", "--name", "local", "--domain-suffix", ".local", "--default-cores", "0"],
      "--default-cores must be a positive number, e.g. 2",
    ],
    [
      [...DEPLOY, "--node-capacity", "reserved"],
      "'--node-capacity <class>' argument 'reserved' is invalid. Allowed choices are spot, on-demand",
    ],
    [[...DEPLOY, "--min-replicas", "1.5"], "--min-replicas must be a whole number from 1 to 1000"],
    [[...DEPLOY, "--max-replicas", "0"], "--max-replicas must be a whole number from 1 to 1000"],
    [[...DEPLOY, "--replicas", "2"], "unknown option '--replicas'"],
    [[...DEPLOY, "--timeout", "soon"], "--timeout must be a positive number"],
    [
      ["deploy-model", "--model-uri", "models:/iris@champion"],
      "required option '--serve-name <name>' not specified",
    ],
    [["deploy-modle"], "unknown command 'deploy-modle'"],
    [["cluster", "create"], "required option '-f, --file <path>' not specified"],
    [
      ["cluster", "create", "-f", "/nonexistent/cluster.yaml", "--dry-run"],
      "-f /nonexistent/cluster.yaml: ENOENT",
    ],
    [["status", "--serve-name", "iris", "-o", "xml"], "Allowed choices are text, yaml, json"],
  ])("%j", async (args, message) => {
    const result = await hermes(args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it("suggests the command meant", async () => {
    expect((await hermes(["deploy-modle"])).stderr).toContain("Did you mean deploy-model?");
  });
});

describe("hermes --help", () => {
  it.each([
    "configure",
    "create-environment",
    "create-serve",
    "deploy-model",
    "undeploy",
    "rollback",
    "list",
    "status",
    "cluster create",
    "cluster start",
    "cluster stop",
    "cluster list",
    "cluster status",
  ])("%s has an example", async (command) => {
    const result = await hermes([...command.split(" "), "--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`Example:\\n  hermes ${command}`));
  });
});

describe("hermes cluster create --dry-run", () => {
  it("prints the seed's cluster JSON as a DarwinCluster manifest", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "hermes-")), "cluster.json");
    writeFileSync(
      file,
      JSON.stringify({
        cluster_name: "my-first-cluster",
        tags: ["demo"],
        runtime: "Ray2.37.0-Py310-CPU",
        inactive_time: 30,
        head_node_config: { cores: 4, memory: 8 },
        worker_node_configs: [{ cores: 2, memory: 4, min_pods: 1, max_pods: 2 }],
        user: "user@example.com",
      }),
    );
    const result = await hermes(["cluster", "create", "-f", file, "-n", "team-a", "--dry-run", "-o", "yaml"]);
    expect(result.code).toBe(0);
    expect(parse(result.stdout)).toMatchObject({
      kind: "DarwinCluster",
      metadata: { name: "my-first-cluster", namespace: "team-a" },
      spec: {
        inactiveTimeMinutes: 30,
        head: { cores: 4, memory: 8 },
        workerGroups: [{ name: "default", minPods: 1, maxPods: 2 }],
      },
    });
  });
});

describe("hermes build", () => {
  const BUILD = ["build", "--git", "https://git.example.com/ml/iris-server.git"];

  it.each([
    [["build"], "required option '--git <url>' not specified"],
    [[...BUILD], "--image is required (or set DARWIN_REGISTRY"],
    [
      [...BUILD, "--image", "r.example.com/iris:1", "--build-arg", "PYTHON"],
      "--build-arg must be NAME=VALUE",
    ],
    [
      [...BUILD, "--image", "r.example.com/iris:1", "--deploy", "Iris"],
      "--deploy must be at most 63 lower-case",
    ],
    [
      ["build", "--git", "ftp://git.example.com/iris.git", "--image", "r.example.com/iris:1", "--dry-run"],
      "--git (spec.source.git.url): must be a git repository URL",
    ],
    [
      [...BUILD, "--image", "r.example.com/iris:1", "--path", "/abs", "--dry-run"],
      "--path (spec.source.contextDir): must be a path relative to the repository root",
    ],
    [[...BUILD, "--image", "r.example.com/iris:1", "--folow"], "unknown option '--folow'"],
  ])("%j", async (args, message) => {
    const result = await hermes(args);
    expect(result.stderr).toContain(message);
    expect(result.code).toBe(2);
  });

  it("prints the ArtifactBuild with --dry-run, the image defaulting to $DARWIN_REGISTRY/<namespace>/<repository>:<revision>", async () => {
    let stdout = "";
    const code = await runHermes(
      [
        ...BUILD,
        "--revision",
        "v1.2",
        "--path",
        "serving",
        "--build-arg",
        "PYTHON=3.11",
        "-n",
        "team-a",
        "--name",
        "iris-1",
        "--deploy",
        "iris",
        "--dry-run",
      ],
      {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: () => true, isTTY: false },
        env: {
          HERMES_HOME: "/nonexistent-hermes-home",
          KUBECONFIG: "/nonexistent-kubeconfig",
          DARWIN_REGISTRY: "127.0.0.1:25500",
        },
      },
    );
    expect(code).toBe(0);
    expect(parse(stdout)).toMatchObject({
      kind: "ArtifactBuild",
      metadata: { name: "iris-1", namespace: "team-a", labels: { "darwin.dreamhorizon.org/serve": "iris" } },
      spec: {
        source: {
          git: { url: "https://git.example.com/ml/iris-server.git", revision: "v1.2" },
          contextDir: "serving",
        },
        output: { image: "127.0.0.1:25500/team-a/iris-server:v1.2" },
        buildArgs: [{ name: "PYTHON", value: "3.11" }],
      },
    });
  });
});
