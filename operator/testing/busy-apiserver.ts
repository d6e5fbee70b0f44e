/**
 * A stand-in for the apiserver on a loopback port that first answers from a script of busy answers (429,
 * 503 with or without Retry-After) and then with what `answer` returns: a real apiserver cannot be made to
 * answer 429 or 503 on demand. For unit tests of how clients wait out a busy apiserver.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeClient, type RetryPolicy } from "../kube-client.ts";

export interface BusyAnswer {
  code: number;
  headers?: Record<string, string>;
}

export interface SeenRequest {
  method: string;
  path: string;
  body: string;
  /** performance.now() when the request arrived. */
  at: number;
}

export class StandInBusyApiserver {
  /** Answers to the next requests, in order; once empty, requests get `answer`. */
  busy: BusyAnswer[] = [];
  readonly seen: SeenRequest[] = [];
  private readonly answer: (request: SeenRequest) => unknown;
  private readonly server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      const seen = { method: req.method ?? "", path: req.url ?? "", body, at: performance.now() };
      this.seen.push(seen);
      const busy = this.busy.shift();
      if (busy) {
        res.writeHead(busy.code, { "content-type": "application/json", ...busy.headers });
        const reason = busy.code === 429 ? "TooManyRequests" : "ServiceUnavailable";
        res.end(JSON.stringify({ kind: "Status", code: busy.code, reason, message: "the server is busy" }));
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(this.answer(seen)));
    });
  });

  constructor(answer: (request: SeenRequest) => unknown) {
    this.answer = answer;
  }

  /** Listens on a free loopback port; returns a client of it. */
  async start(retry?: RetryPolicy): Promise<KubeClient> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    const { port } = this.server.address() as AddressInfo;
    return new KubeClient(
      { server: `http://127.0.0.1:${port}`, token: { type: "static", token: "t" } },
      "test",
      retry,
    );
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
