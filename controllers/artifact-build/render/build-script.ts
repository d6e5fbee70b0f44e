/**
 * The build container's script (POSIX sh; the rootless BuildKit image's busybox). Everything it works on
 * comes from the environment and its arguments (the build args as NAME=value), never spliced into the text:
 *
 * 1. resolve spec.source.git.revision to a commit with `git ls-remote` (a full commit is taken as it is),
 *    so the build reads exactly that commit and the status can name it; a URL git cannot read or a
 *    revision it does not have ends the build here, naming the field;
 * 2. `buildctl-daemonless.sh build` with the dockerfile.v0 frontend on `<url>#<commit>[:<contextDir>]`,
 *    the build args, the registry credentials ($DOCKER_CONFIG) and `--output type=image,push=true`, its
 *    output going to the pod's log and to a file;
 * 3. the result as the termination message: `{"commit":...,"digest":...}` from buildctl's metadata file on
 *    success; on failure `failed: <what>` followed by the end of the log (the kubelet keeps 4 KiB).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const BUILD_SCRIPT = readFileSync(join(import.meta.dirname, "build.sh"), "utf8");
