/** A real Jupyter server (jupyter_server from PyPI, hack/jupyter-server-venv.sh) on the loopback, for tests. */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { REPO, waitFor } from "../../../operator/testing/testbed.ts";

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

/**
 * Starts Jupyter on `port` and waits until it answers. With `token`, it gets it as the rendered Deployment
 * gives it (the JUPYTER_TOKEN environment variable); without, it runs with no authentication.
 */
export async function startJupyterServer(options: {
  port: number;
  root: string;
  token?: string;
}): Promise<{ url: string; process: ChildProcess }> {
  const binary = execFileSync(join(REPO, "hack", "jupyter-server-venv.sh"), { encoding: "utf8" }).trim();
  mkdirSync(options.root, { recursive: true });
  const child = spawn(
    binary,
    [
      "--no-browser",
      "--allow-root",
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${options.port}`,
      "--ServerApp.port_retries=0",
      ...(options.token === undefined ? ["--IdentityProvider.token="] : []),
      `--ServerApp.root_dir=${options.root}`,
    ],
    {
      stdio: "ignore",
      env: { ...process.env, ...(options.token !== undefined && { JUPYTER_TOKEN: options.token }) },
    },
  );
  const url = `http://127.0.0.1:${options.port}`;
  const headers = options.token ? { authorization: `token ${options.token}` } : undefined;
  await waitFor(
    "the Jupyter server answering",
    async () => (await fetch(`${url}/api/status`, { headers }).catch(() => undefined))?.ok === true,
    { timeoutMs: 90_000, intervalMs: 250 },
  );
  return { url, process: child };
}
