/**
 * The Python sources the Serve's pods run, read once when the module loads: the predict server of an api
 * Serve (run as `python -c`, so the rendered command is complete by itself) and the Ray Serve application
 * of a ray-serve Serve (mounted from a ConfigMap).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const PREDICT_SERVER_SOURCE = readFileSync(join(import.meta.dirname, "predict_server.py"), "utf8");
export const RAY_SERVE_APP_SOURCE = readFileSync(join(import.meta.dirname, "darwin_serve.py"), "utf8");
