// @testbed data
/**
 * The rendered pip install step, run as a local process with the data tier's Ray Python (the KWOK pods run
 * no containers): the init container's command, with the install directory and the termination-message
 * file moved to a temporary directory, installs a package from PyPI that the Ray container's PYTHONPATH
 * then imports; a requirement pip cannot satisfy ends it non-zero with pip's error as the termination
 * message, which, placed in a head pod's status as the kubelet does, the status code turns into
 * PackagesFailed.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { cluster, RUNTIME } from "./fixtures.ts";
import { DEFAULT_PRICES } from "./prices.ts";
import { PACKAGES_CONTAINER, PACKAGES_DIR } from "./render/packages.ts";
import { renderRayCluster } from "./render/ray-cluster.ts";
import { computeDarwinClusterStatus, packagesFailure } from "./status.ts";

let python: string;

beforeAll(() => {
  const version = process.env.DARWIN_RAY_VERSION;
  if (!version) throw new Error("DARWIN_RAY_VERSION is not set: the data tier is not up");
  const cache = process.env.DARWIN_CACHE ?? join(homedir(), ".cache", "darwin-testbed");
  python = join(cache, `ray-${version}`, "venv", "bin", "python");
  if (!existsSync(python)) throw new Error(`${python} is missing: run hack/testbed up data`);
});

/** Runs the head's install step as rendered, in a temporary directory instead of the pod's volume. */
function runInstallStep(pip: string[]) {
  const rayCluster = renderRayCluster(cluster({ packages: { pip } }), RUNTIME);
  const pod = rayCluster.spec.headGroupSpec.template.spec;
  const init = pod?.initContainers?.find((c) => c.name === PACKAGES_CONTAINER);
  const [command, ...args] = init?.command ?? [];
  if (!command) throw new Error("no install step rendered");
  const dir = mkdtempSync(join(tmpdir(), "darwin-packages-"));
  const target = join(dir, "packages");
  const terminationLog = join(dir, "termination-log");
  const result = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 240_000,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      PYTHON: python,
      DARWIN_PACKAGES_DIR: target,
      DARWIN_TERMINATION_LOG: terminationLog,
    },
  });
  const rayEnv = pod?.containers[0]?.env ?? [];
  return {
    code: result.status,
    output: `${result.stdout}${result.stderr}`,
    target,
    terminationMessage: existsSync(terminationLog) ? readFileSync(terminationLog, "utf8") : undefined,
    pythonPath: rayEnv.find((e) => e.name === "PYTHONPATH")?.value,
  };
}

describe("pip packages", () => {
  it("installs a package that the Ray container's Python then imports", () => {
    const step = runInstallStep(["text-unidecode==1.3"]);
    expect(step.code, step.output).toBe(0);
    expect(step.pythonPath).toBe(PACKAGES_DIR);
    // The Ray container's PYTHONPATH, pointed at where the step installed (the volume in a pod).
    const imported = spawnSync(
      python,
      ["-c", "import text_unidecode; print(text_unidecode.unidecode('Darwín'), text_unidecode.__file__)"],
      { encoding: "utf8", env: { PYTHONPATH: step.target } },
    );
    expect(imported.status, imported.stderr).toBe(0);
    expect(imported.stdout).toContain("Darwin");
    expect(imported.stdout).toContain(step.target);
  });

  it("fails on a requirement pip cannot satisfy, and the status reports PackagesFailed with pip's message", () => {
    const step = runInstallStep(["darwin-no-such-package-7f3a==1.0"]);
    expect(step.code).not.toBe(0);
    expect(step.terminationMessage).toMatch(
      /^pip install failed \(exit 1\): ERROR: Could not find a version that satisfies the requirement darwin-no-such-package-7f3a==1\.0/,
    );
    // The head pod as the kubelet reports an init container that ended with a termination message.
    const headPod = {
      status: {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: PACKAGES_CONTAINER,
            ready: false,
            restartCount: 1,
            state: { waiting: { reason: "CrashLoopBackOff" } },
            lastState: {
              terminated: { exitCode: step.code, reason: "Error", message: step.terminationMessage },
            },
          },
        ],
      },
    };
    const failure = packagesFailure([headPod]);
    expect(failure?.field).toBe("pip");
    expect(failure?.message).toContain("Could not find a version that satisfies the requirement");
    const input = cluster({ packages: { pip: ["darwin-no-such-package-7f3a==1.0"] } });
    const status = computeDarwinClusterStatus(
      input,
      undefined,
      undefined,
      DEFAULT_PRICES,
      new Date(),
      undefined,
      {
        failure,
      },
    );
    expect(status.phase).toBe("Failed");
    expect(findCondition(status.conditions, "PackagesFailed")).toMatchObject({
      status: "True",
      reason: "PipInstallFailed",
    });
    expect(findCondition(status.conditions, "PackagesFailed")?.message).toContain(
      "darwin-no-such-package-7f3a==1.0",
    );
    expect(findCondition(status.conditions, "Ready")?.reason).toBe("PackagesFailed");
  });
});
