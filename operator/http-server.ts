/**
 * The operator's plain-HTTP endpoints: /metrics (Prometheus), /healthz (the process is alive) and /readyz
 * (caches are synced; a standby replica is ready too, so it can take over quickly).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";

export interface Probe {
  ok: boolean;
  /** Shown in the response body; says what is not ready. */
  detail: string;
}

export interface HttpEndpoints {
  registry: Registry;
  healthz: () => Probe;
  readyz: () => Probe;
}

/** Builds the server without listening (tests call listen(0)). */
export function createHttpServer(endpoints: HttpEndpoints): http.Server {
  return http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const probe = path === "/healthz" ? endpoints.healthz : path === "/readyz" ? endpoints.readyz : undefined;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (probe) {
      const { ok, detail } = probe();
      res.writeHead(ok ? 200 : 503, { "Content-Type": "text/plain; charset=utf-8" }).end(ok ? "ok" : detail);
      return;
    }
    if (path === "/metrics") {
      endpoints.registry.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": endpoints.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found");
  });
}

/** Listens and resolves with the port (useful when asking for port 0). */
export function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
