/**
 * Packages installed before Ray starts, by init containers on every Ray pod into emptyDirs shared with the
 * Ray container:
 * - pip: `pip install --target` into a directory the Ray container's PYTHONPATH starts with;
 * - Maven (Spark runtimes): the coordinates and their dependencies resolved from Maven Central by Ivy (the
 *   one Spark itself uses for `--packages`, shipped in PySpark's jars), the jars retrieved into a directory
 *   and listed in a spark-defaults.conf that SPARK_CONF_DIR points Spark (and RayDP, which starts Spark
 *   through PySpark) at: `spark.jars` and both extraClassPaths.
 * A failed step ends its init container with the tool's error lines as its termination message (the
 * kubelet copies the file at terminationMessagePath into the pod status), which status.ts turns into
 * PackagesFailed. Pure.
 */
import type { V1Container, V1EnvVar, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import type { DarwinClusterSpec } from "./ray-cluster.ts";

export const PACKAGES_CONTAINER = "install-packages";
export const PACKAGES_VOLUME = "darwin-packages";
export const PACKAGES_DIR = "/opt/darwin/packages";
const TERMINATION_LOG = "/dev/termination-log";

/**
 * The install step, a POSIX sh script; the requirements are its arguments (never interpolated into it).
 * `DARWIN_PACKAGES_DIR`, `DARWIN_TERMINATION_LOG` and `PYTHON` let the same script run outside a pod.
 * pip's output goes to the log; on failure its ERROR lines (else its last lines) go to the termination
 * message, cut to the 4 KiB the kubelet keeps.
 */
export const INSTALL_SCRIPT = `set -u
log=\${DARWIN_TERMINATION_LOG:-${TERMINATION_LOG}}
out=$("\${PYTHON:-python}" -m pip install --no-cache-dir --disable-pip-version-check --no-input --target "$DARWIN_PACKAGES_DIR" "$@" 2>&1)
code=$?
printf '%s\\n' "$out"
if [ "$code" -ne 0 ]; then
  errors=$(printf '%s\\n' "$out" | grep -E '^(ERROR|error):' || true)
  [ -n "$errors" ] || errors=$(printf '%s\\n' "$out" | tail -n 20)
  printf 'pip install failed (exit %s): %s\\n' "$code" "$errors" | head -c 4000 > "$log"
  exit "$code"
fi`;

export const MAVEN_CONTAINER = "install-maven-packages";
export const MAVEN_VOLUME = "darwin-maven";
export const MAVEN_DIR = "/opt/darwin/maven";

/**
 * The Maven step, a POSIX sh script; the coordinates are its arguments, checked for the characters of
 * group:artifact:version before they go into Ivy's module file. `DARWIN_MAVEN_DIR`,
 * `DARWIN_TERMINATION_LOG`, `PYTHON` (whose PySpark ships Ivy) or `IVY_JAR` let it run outside a pod. Ivy's
 * unresolved dependencies (`group#artifact;version`, written back as group:artifact:version) go to the
 * termination message.
 */
export const MAVEN_SCRIPT = `set -u
dir=$DARWIN_MAVEN_DIR
log=\${DARWIN_TERMINATION_LOG:-${TERMINATION_LOG}}
fail() {
  printf 'Maven packages not resolved: %s\\n' "$1" | head -c 4000 > "$log"
  printf 'Maven packages not resolved: %s\\n' "$1" >&2
  exit 1
}
ivy=\${IVY_JAR:-$("\${PYTHON:-python}" -c 'import glob, os, pyspark; print(" ".join(sorted(glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "ivy-*.jar")))))' 2>/dev/null)}
ivy=\${ivy%% *}
[ -n "$ivy" ] && [ -f "$ivy" ] || fail "the runtime has no Ivy (PySpark's jars/ivy-*.jar): spec.packages.maven needs a Spark runtime"
deps=""
for c in "$@"; do
  case "$c" in
    *[!A-Za-z0-9_.:+-]* | *:*:*:* | :* | *: | *::*) fail "$c is not group:artifact:version (letters, digits and . _ - +)" ;;
    *:*:*) ;;
    *) fail "$c is not group:artifact:version" ;;
  esac
  g=\${c%%:*}
  rest=\${c#*:}
  deps="$deps<dependency org=\\"$g\\" name=\\"\${rest%%:*}\\" rev=\\"\${rest#*:}\\" conf=\\"default->default\\"/>"
done
mkdir -p "$dir/jars" "$dir/conf"
printf '<ivy-module version="2.0"><info organisation="darwin" module="cluster-packages"/><configurations><conf name="default"/></configurations><dependencies>%s</dependencies></ivy-module>\\n' "$deps" > "$dir/ivy.xml"
out=$(java -cp "$ivy" org.apache.ivy.Main -ivy "$dir/ivy.xml" -confs default -types jar bundle \\
  -cache "\${TMPDIR:-/tmp}/darwin-ivy-cache" -retrieve "$dir/jars/[organisation]_[artifact]-[revision](-[classifier]).[ext]" 2>&1)
code=$?
printf '%s\\n' "$out"
if [ "$code" -ne 0 ] || printf '%s\\n' "$out" | grep -q 'UNRESOLVED DEPENDENCIES'; then
  errors=$(printf '%s\\n' "$out" | grep -E '^[[:space:]]+::[[:space:]]+[^[:space:]#]+#' | sed -E 's/^[[:space:]:]+//; s/([^ #]+)#([^;]+);([^: ]+)/\\1:\\2:\\3/g' | paste -sd ';' -)
  [ -n "$errors" ] || errors=$(printf '%s\\n' "$out" | tail -n 20)
  fail "$errors"
fi
jars=$(ls "$dir"/jars/*.jar | paste -sd, -)
printf 'spark.jars %s\\nspark.driver.extraClassPath %s/jars/*\\nspark.executor.extraClassPath %s/jars/*\\n' "$jars" "$dir" "$dir" > "$dir/conf/spark-defaults.conf"`;

export interface PackageInstall {
  initContainers: V1Container[];
  volumes: V1Volume[];
  mounts: V1VolumeMount[];
  /** For the Ray container: the pip packages first on Python's path, Spark's configuration with the jars. */
  env: V1EnvVar[];
}

/** The install steps for a cluster's pip and Maven packages, or undefined when it has none. */
export function renderPackageInstall(spec: DarwinClusterSpec, image: string): PackageInstall | undefined {
  const steps = [
    renderPipStep(spec.packages?.pip ?? [], image),
    renderMavenStep(spec.packages?.maven ?? [], image),
  ].filter((step) => step !== undefined);
  if (steps.length === 0) return undefined;
  return {
    initContainers: steps.map((s) => s.initContainer),
    volumes: steps.map((s) => s.volume),
    mounts: steps.map((s) => s.mount),
    env: steps.flatMap((s) => s.env),
  };
}

interface Step {
  initContainer: V1Container;
  volume: V1Volume;
  mount: V1VolumeMount;
  env: V1EnvVar[];
}

function renderPipStep(pip: string[], image: string): Step | undefined {
  if (pip.length === 0) return undefined;
  const mount: V1VolumeMount = { name: PACKAGES_VOLUME, mountPath: PACKAGES_DIR };
  return {
    initContainer: {
      name: PACKAGES_CONTAINER,
      // The runtime's image: the same Python and pip as the Ray container that imports the packages.
      image,
      command: ["sh", "-c", INSTALL_SCRIPT, "install-packages", ...pip],
      env: [{ name: "DARWIN_PACKAGES_DIR", value: PACKAGES_DIR }],
      volumeMounts: [mount],
      terminationMessagePath: TERMINATION_LOG,
      terminationMessagePolicy: "FallbackToLogsOnError",
    },
    volume: { name: PACKAGES_VOLUME, emptyDir: {} },
    mount,
    env: [{ name: "PYTHONPATH", value: PACKAGES_DIR }],
  };
}

function renderMavenStep(maven: string[], image: string): Step | undefined {
  if (maven.length === 0) return undefined;
  const mount: V1VolumeMount = { name: MAVEN_VOLUME, mountPath: MAVEN_DIR };
  return {
    initContainer: {
      name: MAVEN_CONTAINER,
      // The runtime's image: its Java, and the Ivy of its PySpark.
      image,
      command: ["sh", "-c", MAVEN_SCRIPT, "install-maven-packages", ...maven],
      env: [{ name: "DARWIN_MAVEN_DIR", value: MAVEN_DIR }],
      volumeMounts: [mount],
      terminationMessagePath: TERMINATION_LOG,
      terminationMessagePolicy: "FallbackToLogsOnError",
    },
    volume: { name: MAVEN_VOLUME, emptyDir: {} },
    mount,
    env: [{ name: "SPARK_CONF_DIR", value: `${MAVEN_DIR}/conf` }],
  };
}
