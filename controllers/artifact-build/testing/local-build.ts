/**
 * The build container's script run as a local process, for the unit test of the script
 * (render/build-script.test.ts): against a real git repository made here, served by `git daemon` on
 * loopback (git://127.0.0.1:<port>/iris.git), and, for BuildKit, a fake `buildctl-daemonless.sh` first on
 * PATH that records its arguments and plays BuildKit's plain output, metadata file and exit code. The fake
 * is what lets the script's revision resolution, arguments and messages be checked in a unit test, in
 * seconds and without the node (rootless BuildKit runs only in the node's build pods); real builds are the
 * node tests' (test-e2e/node/artifact-build*.int.test.ts, which use gitDaemon and git from here).
 */
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../../test-e2e/support/free-port.ts";
import { waitFor } from "../../../test-e2e/support/wait.ts";
import { sampleBuild } from "../fixtures.ts";
import { BUILD_CONTAINER, renderBuildJob } from "../render/build-job.ts";

export const FAKE_DIGEST = `sha256:${"ab".repeat(32)}`;

/** What the fake prints for a failing RUN, in BuildKit's plain progress format. */
const FAKE_FAILURE = [
  "#5 [2/2] RUN exit 3",
  '#5 ERROR: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
  "------",
  " > [2/2] RUN exit 3:",
  "------",
  'error: failed to solve: process "/bin/sh -c exit 3" did not complete successfully: exit code: 3',
];

const FAKE_BUILDCTL = `#!/bin/sh
printf '%s\\n' "$@" >"$FAKE_ARGS"
while [ $# -gt 0 ]; do [ "$1" = --metadata-file ] && meta=$2; shift; done
if [ "$FAKE_OUTCOME" = fail ]; then
  printf '%s\\n' ${FAKE_FAILURE.map((l) => `'${l.replaceAll("'", "'\\''")}'`).join(" ")}
  exit 1
fi
echo '#6 exporting to image'
printf '{\\n  "containerimage.digest": "${FAKE_DIGEST}",\\n  "image.name": "x"\\n}\\n' >"$meta"
`;

export interface LocalRepository {
  dir: string;
  /** git:// URL of the repository on the local git daemon. */
  url: string;
  /** The commit main and the annotated tag v1 point at. */
  commit: string;
  /** Stops the git daemon. */
  stop(): void;
}

export function git(cwd: string, ...args: string[]): string {
  const result = spawnSync("git", args, { encoding: "utf8", cwd });
  if (result.status !== 0) throw new Error(`git ${args.join(" ")}: ${result.stderr}`);
  return result.stdout.trim();
}

/**
 * `git daemon` serving every repository under `dir` (read-only, git://<address>:<port>/<name>.git) on
 * `address`: loopback for the script run here, the node's bridge address for build pods on the real node.
 * Resolves once it serves the repository `probe` (a directory under `dir`).
 */
export async function gitDaemon(
  dir: string,
  address: string,
  probe: string,
): Promise<{ base: string; stop(): void }> {
  const port = await freePort();
  const daemon = spawn(
    "git",
    [
      "daemon",
      "--reuseaddr",
      "--export-all",
      `--base-path=${dir}`,
      `--listen=${address}`,
      `--port=${port}`,
      dir,
    ],
    { stdio: "ignore" },
  );
  const base = `git://${address}:${port}`;
  await waitFor("git daemon to serve the repository", async () =>
    spawnSync("git", ["ls-remote", `${base}/${probe}`], { encoding: "utf8" }).status === 0 ? true : undefined,
  );
  return { base, stop: () => daemon.kill() };
}

/**
 * A bare repository with one commit (a Dockerfile) on main, tagged v1, served by git daemon on loopback;
 * the fake buildctl beside it.
 */
export async function localRepository(): Promise<LocalRepository> {
  const dir = mkdtempSync(join(tmpdir(), "darwin-build-script-"));
  writeFileSync(join(dir, "buildctl-daemonless.sh"), FAKE_BUILDCTL);
  chmodSync(join(dir, "buildctl-daemonless.sh"), 0o755);
  const bare = join(dir, "iris.git");
  const work = join(dir, "work");
  git(dir, "init", "-q", "--bare", "-b", "main", bare);
  git(dir, "init", "-q", "-b", "main", work);
  writeFileSync(join(work, "Dockerfile"), "FROM scratch\n");
  const as = ["-c", "user.email=build@example.com", "-c", "user.name=build"];
  git(work, "add", ".");
  git(work, ...as, "commit", "-q", "-m", "first");
  git(work, ...as, "tag", "-a", "v1", "-m", "v1");
  git(work, "push", "-q", bare, "main", "v1");
  const daemon = await gitDaemon(dir, "127.0.0.1", "iris.git");
  const url = `${daemon.base}/iris.git`;
  return { dir, url, commit: git(work, "rev-parse", "HEAD"), stop: daemon.stop };
}

export interface LocalBuild {
  code: number | null;
  /** What the pod's log would hold. */
  log: string;
  /** The termination message. */
  message: string;
  /** The arguments buildctl got. */
  args: string[];
}

/** Runs the rendered build container of the sample build of `repo`'s main, with `overrides` on its spec. */
export function runBuildScript(
  repo: LocalRepository,
  overrides: Record<string, unknown>,
  outcome: "ok" | "fail" = "ok",
): LocalBuild {
  const source = { git: { url: repo.url, revision: "main" } };
  const job = renderBuildJob(sampleBuild({ source, ...overrides }), {
    image: "buildkit",
    insecureRegistries: [],
    resources: {},
  });
  const c = job.spec?.template.spec?.containers.find((x) => x.name === BUILD_CONTAINER);
  const [shell, ...args] = [...(c?.command ?? []), ...(c?.args ?? [])];
  const work = mkdtempSync(join(repo.dir, "run-"));
  const env: Record<string, string> = {};
  for (const e of c?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
  Object.assign(env, {
    PATH: `${repo.dir}:${process.env.PATH}`,
    HOME: work,
    DARWIN_TERMINATION_LOG: join(work, "termination-log"),
    DARWIN_WORK_DIR: work,
    FAKE_ARGS: join(work, "args"),
    FAKE_OUTCOME: outcome,
  });
  const result = spawnSync(shell ?? "sh", args, { encoding: "utf8", env, timeout: 30_000 });
  const read = (f: string) => (existsSync(join(work, f)) ? readFileSync(join(work, f), "utf8") : "");
  return {
    code: result.status,
    log: result.stdout,
    message: read("termination-log"),
    args: read("args").split("\n"),
  };
}
