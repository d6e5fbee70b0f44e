/**
 * The push benchmark's load generator, run in a worker thread of its own (bench/push/run.ts) so that it
 * does not share the feature server's event loop and CPU: CONNECTIONS keep-alive connections each sending
 * requests of BATCH rows one after another until the deadline. Posts back the rows acknowledged (202), the
 * request latencies and this thread's CPU time.
 */
import http from "node:http";
import { parentPort, workerData } from "node:worker_threads";
import { row } from "./rows.ts";

export interface LoadInput {
  port: number;
  path: string;
  token: string;
  seconds: number;
  batch: number;
  connections: number;
}

export interface LoadResult {
  acknowledged: number;
  latencies: number[];
  elapsedMs: number;
  cpuMicros: number;
}

const input = workerData as LoadInput;

const agent = new http.Agent({ keepAlive: true, maxSockets: input.connections });
const post = (body: string) =>
  new Promise<void>((resolve, reject) => {
    const request = http.request(
      {
        agent,
        host: "127.0.0.1",
        port: input.port,
        method: "POST",
        path: input.path,
        headers: { "content-type": "application/json", authorization: `Bearer ${input.token}` },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk) => {
          text += chunk;
        });
        response.on("end", () =>
          response.statusCode === 202 ? resolve() : reject(new Error(`HTTP ${response.statusCode}: ${text}`)),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });

let next = 0;
let acknowledged = 0;
const latencies: number[] = [];
const deadline = Date.now() + input.seconds * 1000;
const started = performance.now();
const cpuBefore = process.threadCpuUsage();
await Promise.all(
  Array.from({ length: input.connections }, async () => {
    while (Date.now() < deadline) {
      const rows = Array.from({ length: input.batch }, () => row(next++));
      const t0 = performance.now();
      await post(JSON.stringify({ feature_group_name: "user_features", rows }));
      latencies.push(performance.now() - t0);
      acknowledged += input.batch;
    }
  }),
);
const cpu = process.threadCpuUsage(cpuBefore);
agent.destroy();
const result: LoadResult = {
  acknowledged,
  latencies,
  elapsedMs: performance.now() - started,
  cpuMicros: cpu.user + cpu.system,
};
parentPort?.postMessage(result);
