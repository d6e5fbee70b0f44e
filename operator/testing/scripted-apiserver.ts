/**
 * A scripted stand-in for the apiserver's list and watch endpoints of one collection (writes are recorded
 * and echoed), for unit tests of the informer's failure handling and the event recorder. A real apiserver cannot be made to go silent on an open watch, or to
 * fail the n-th watch, on demand; this can. Integration tests use the real testbed apiserver.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { KubeClient } from "../kube-client.ts";
import type { KubeObject } from "../resource.ts";

/** What one watch request gets. */
export type WatchScript =
  | { kind: "events"; events: Array<{ type: string; object: unknown }>; after: "hang" | "close" }
  | { kind: "silent" }
  | { kind: "status"; code: number };

export interface ScriptedRequest {
  at: number;
  method: string;
  path: string;
  watch: boolean;
  resourceVersion: string | null;
  /** Parsed JSON body of writes. */
  body?: unknown;
}

export class ScriptedApiserver {
  readonly requests: ScriptedRequest[] = [];
  /** Answers to successive lists. */
  lists: Array<{ resourceVersion: string; items: KubeObject[] }> = [];
  /** Answers to successive watches; when exhausted, watches hang silently. */
  watches: WatchScript[] = [];
  private readonly server: http.Server;
  private readonly open = new Set<http.ServerResponse>();
  private port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<KubeClient> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "scripted", server: `http://127.0.0.1:${this.port}`, skipTLSVerify: true }],
      users: [{ name: "scripted", token: "t" }],
      contexts: [{ name: "scripted", cluster: "scripted", user: "scripted" }],
      currentContext: "scripted",
    });
    return new KubeClient(config);
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  watchRequests(): ScriptedRequest[] {
    return this.requests.filter((r) => r.watch);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    const watch = url.searchParams.get("watch") === "true";
    const request: ScriptedRequest = {
      at: performance.now(),
      method: req.method ?? "GET",
      path: url.pathname,
      watch,
      resourceVersion: url.searchParams.get("resourceVersion"),
    };
    this.requests.push(request);
    if (req.method !== "GET") {
      // Writes succeed and echo their body.
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        request.body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
        res.writeHead(req.method === "POST" ? 201 : 200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(request.body));
      });
      return;
    }
    if (!watch) {
      const list = this.lists.shift();
      if (!list) {
        res.writeHead(500).end("{}");
        return;
      }
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify({ metadata: { resourceVersion: list.resourceVersion }, items: list.items }));
      return;
    }
    const script = this.watches.shift() ?? { kind: "silent" };
    if (script.kind === "status") {
      res.writeHead(script.code, { "Content-Type": "application/json" });
      res.end(
        JSON.stringify({ kind: "Status", code: script.code, reason: "InternalError", message: "scripted" }),
      );
      return;
    }
    res.writeHead(200, { "Content-Type": "application/json" });
    res.flushHeaders();
    this.open.add(res);
    res.on("close", () => this.open.delete(res));
    if (script.kind === "silent") return;
    for (const event of script.events) res.write(`${JSON.stringify(event)}\n`);
    if (script.after === "close") res.end();
  }
}

/** A ConfigMap-like object for scripted lists and events. */
export function scriptedObject(
  name: string,
  resourceVersion: string,
  data: Record<string, string> = {},
): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion }, data };
}
