/**
 * A scripted stand-in for the apiserver's list and watch endpoints of one collection (writes are recorded
 * and echoed), for unit tests of the informer's failure handling and the event recorder. A real apiserver cannot be made to go silent on an open watch, or to
 * fail the n-th watch, on demand; this can. Integration tests use the real testbed apiserver.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeClient } from "../kube-client.ts";
import type { KubeObject } from "../resource.ts";

export interface ScriptedList {
  resourceVersion: string;
  items: KubeObject[];
}

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
  labelSelector: string | null;
  /** Parsed JSON body of writes. */
  body?: unknown;
}

export class ScriptedApiserver {
  readonly requests: ScriptedRequest[] = [];
  /** Answers to successive lists (of any collection not in listsOf). */
  lists: ScriptedList[] = [];
  /** Answers to successive lists of one collection, by path. */
  readonly listsOf = new Map<string, ScriptedList[]>();
  /** Answers to successive watches; when exhausted, watches hang silently. */
  watches: WatchScript[] = [];
  /**
   * Collections that do not exist (a custom resource whose CRD is not installed): lists and watches of
   * these paths get the apiserver's 404.
   */
  readonly missing = new Set<string>();
  /** Objects answered to a GET of their path (a read of one object, not a list). */
  readonly objects = new Map<string, KubeObject>();
  /** HTTP codes for successive writes; when exhausted, writes succeed and echo their body. */
  writeCodes: number[] = [];
  private readonly server: http.Server;
  private readonly open = new Set<http.ServerResponse>();
  private port = 0;

  constructor() {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start(): Promise<KubeClient> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return new KubeClient({ server: `http://127.0.0.1:${this.port}`, token: { type: "static", token: "t" } });
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
      labelSelector: url.searchParams.get("labelSelector"),
    };
    this.requests.push(request);
    if (this.missing.has(url.pathname)) {
      res.writeHead(404, { "Content-Type": "application/json" });
      res.end(JSON.stringify(NOT_FOUND));
      return;
    }
    if (req.method !== "GET") {
      // Writes succeed and echo their body.
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        request.body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
        const code = this.writeCodes.shift();
        if (code === 409) {
          res.writeHead(409, { "Content-Type": "application/json" });
          res.end(JSON.stringify(CONFLICT));
          return;
        }
        res.writeHead(req.method === "POST" ? 201 : 200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(request.body));
      });
      return;
    }
    const object = this.objects.get(url.pathname);
    if (object && !watch) {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.end(JSON.stringify(object));
      return;
    }
    if (!watch) {
      const list = (this.listsOf.get(url.pathname) ?? this.lists).shift();
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

/** What kube-apiserver answers for a resource it does not serve (a CRD that is not installed). */
const NOT_FOUND = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message: "the server could not find the requested resource",
  reason: "NotFound",
  details: {},
  code: 404,
};

/** What kube-apiserver answers a write whose resourceVersion precondition no longer holds. */
const CONFLICT = {
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message:
    'Operation cannot be fulfilled on configmaps "w-child": the object has been modified; please apply your changes to the latest version and try again',
  reason: "Conflict",
  details: { name: "w-child", kind: "configmaps" },
  code: 409,
};

/** A ConfigMap-like object for scripted lists and events. */
export function scriptedObject(
  name: string,
  resourceVersion: string,
  data: Record<string, string> = {},
  uid?: string,
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "ns", resourceVersion, ...(uid && { uid }) },
    data,
  };
}
