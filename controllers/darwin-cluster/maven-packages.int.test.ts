// @testbed control
/**
 * The rendered Maven step, run as a local process (the KWOK pods run no containers) with the machine's
 * Java and the Ivy that PySpark 3.5.1 ships (ivy 2.5.1, fetched by the testbed's Maven, as the Spark
 * runtime's image has it in PySpark's jars): the init container's command, with its directory and the
 * termination-message file moved to a temporary directory, resolves a coordinate and its dependencies from
 * Maven Central into the jars directory and writes the spark-defaults.conf that SPARK_CONF_DIR names, whose
 * class path then loads the package's classes; a coordinate that does not exist ends it non-zero with Ivy's
 * message naming it, which, placed in a head pod's status as the kubelet does, the status code turns into
 * PackagesFailed.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { findCondition } from "../../operator/conditions.ts";
import { cluster, RUNTIME } from "./fixtures.ts";
import { DEFAULT_PRICES } from "./prices.ts";
import { MAVEN_CONTAINER, MAVEN_DIR } from "./render/packages.ts";
import { renderRayCluster } from "./render/ray-cluster.ts";
import { computeDarwinClusterStatus, packagesFailure } from "./status.ts";

/** The Ivy version in PySpark 3.5.1's jars (the Spark runtime's). */
const IVY = "org.apache.ivy:ivy:2.5.1";
let ivyJar: string;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), "darwin-ivy-"));
  execFileSync("mvn", ["-B", "-q", "dependency:copy", `-Dartifact=${IVY}`, `-DoutputDirectory=${dir}`], {
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 240_000,
  });
  ivyJar = join(dir, "ivy-2.5.1.jar");
  if (!existsSync(ivyJar)) throw new Error(`${ivyJar} is missing: mvn did not copy ${IVY}`);
}, 300_000);

/** Runs the head's Maven step as rendered, in a temporary directory instead of the pod's volume. */
function runMavenStep(maven: string[]) {
  const rayCluster = renderRayCluster(cluster({ packages: { maven } }), RUNTIME);
  const pod = rayCluster.spec.headGroupSpec.template.spec;
  const init = pod?.initContainers?.find((c) => c.name === MAVEN_CONTAINER);
  const [command, ...args] = init?.command ?? [];
  if (!command) throw new Error("no Maven step rendered");
  const dir = mkdtempSync(join(tmpdir(), "darwin-maven-"));
  const target = join(dir, "maven");
  const terminationLog = join(dir, "termination-log");
  const result = spawnSync(command, args, {
    encoding: "utf8",
    timeout: 240_000,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      TMPDIR: dir,
      IVY_JAR: ivyJar,
      DARWIN_MAVEN_DIR: target,
      DARWIN_TERMINATION_LOG: terminationLog,
    },
  });
  const rayEnv = pod?.containers[0]?.env ?? [];
  return {
    code: result.status,
    output: `${result.stdout}${result.stderr}`,
    target,
    terminationMessage: existsSync(terminationLog) ? readFileSync(terminationLog, "utf8") : undefined,
    sparkConfDir: rayEnv.find((e) => e.name === "SPARK_CONF_DIR")?.value,
  };
}

/** spark-defaults.conf as a map of property to value. */
function sparkDefaults(file: string): Map<string, string> {
  const lines = readFileSync(file, "utf8").split("\n").filter(Boolean);
  return new Map(lines.map((l) => [l.slice(0, l.indexOf(" ")), l.slice(l.indexOf(" ") + 1)]));
}

describe("Maven packages", () => {
  it("resolves a coordinate with its dependencies into jars that Spark's configured class path loads", () => {
    const step = runMavenStep(["org.apache.commons:commons-text:1.10.0"]);
    expect(step.code, step.output).toBe(0);
    expect(step.sparkConfDir).toBe(`${MAVEN_DIR}/conf`);
    const jars = readdirSync(join(step.target, "jars")).sort();
    // commons-text needs commons-lang3: the dependency came too.
    expect(jars).toContain("org.apache.commons_commons-text-1.10.0.jar");
    expect(jars.some((j) => j.startsWith("org.apache.commons_commons-lang3-"))).toBe(true);

    const conf = sparkDefaults(join(step.target, "conf", "spark-defaults.conf"));
    expect(conf.get("spark.jars")?.split(",").sort()).toEqual(jars.map((j) => join(step.target, "jars", j)));
    const classPath = conf.get("spark.driver.extraClassPath");
    expect(classPath).toBe(`${step.target}/jars/*`);
    expect(conf.get("spark.executor.extraClassPath")).toBe(classPath);

    // A JVM with that class path (what Spark's driver and executors get) uses the package's classes.
    const check = join(step.target, "Check.java");
    writeFileSync(
      check,
      'public class Check { public static void main(String[] a) { System.out.println(org.apache.commons.text.WordUtils.capitalize("darwin on spark")); } }\n',
    );
    const ran = spawnSync("java", ["-cp", classPath ?? "", check], { encoding: "utf8", timeout: 120_000 });
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout.trim()).toBe("Darwin On Spark");
  }, 300_000);

  it("fails on a coordinate that does not exist, naming it, and the status reports PackagesFailed", () => {
    const missing = "org.example.darwin:no-such-artifact-7f3a:1.0";
    const step = runMavenStep(["org.apache.commons:commons-text:1.10.0", missing]);
    expect(step.code).not.toBe(0);
    expect(step.terminationMessage).toMatch(/^Maven packages not resolved: /);
    expect(step.terminationMessage).toContain(`${missing}: not found`);
    expect(step.terminationMessage).not.toContain("commons-text");

    // The head pod as the kubelet reports an init container that ended with a termination message.
    const headPod = {
      status: {
        phase: "Pending",
        initContainerStatuses: [
          {
            name: MAVEN_CONTAINER,
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
    expect(failure?.field).toBe("maven");
    const input = cluster({ packages: { maven: [missing] } });
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
    const condition = findCondition(status.conditions, "PackagesFailed");
    expect(condition).toMatchObject({ status: "True", reason: "MavenResolveFailed" });
    expect(condition?.message).toContain(missing);
    const ready = findCondition(status.conditions, "Ready");
    expect(ready?.reason).toBe("PackagesFailed");
    expect(ready?.message).toContain("fix spec.packages.maven");
  }, 300_000);

  it("refuses a coordinate that is not group:artifact:version before resolving anything", () => {
    const step = runMavenStep(['org.example:bad"name:1.0']);
    expect(step.code).toBe(1);
    expect(step.terminationMessage).toBe(
      'Maven packages not resolved: org.example:bad"name:1.0 is not group:artifact:version (letters, digits and . _ - +)\n',
    );
  });
});
