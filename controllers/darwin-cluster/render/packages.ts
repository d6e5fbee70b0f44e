/**
 * pip packages installed before Ray starts: an init container on every Ray pod runs `pip install --target`
 * into an emptyDir shared with the Ray container, whose PYTHONPATH starts with it. A failed install ends
 * the init container with pip's error lines as its termination message (the kubelet copies the file at
 * terminationMessagePath into the pod status), which status.ts turns into PackagesFailed. Pure.
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

export interface PackageInstall {
  initContainer: V1Container;
  volume: V1Volume;
  mount: V1VolumeMount;
  /** For the Ray container: the installed packages first on Python's path. */
  env: V1EnvVar[];
}

/** The install step for a cluster's pip packages, or undefined when it has none. */
export function renderPackageInstall(spec: DarwinClusterSpec, image: string): PackageInstall | undefined {
  const pip = spec.packages?.pip ?? [];
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
