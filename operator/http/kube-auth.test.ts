/**
 * KubeAuth's answers and cache, with a stand-in for the apiserver's TokenReview and SubjectAccessReview
 * endpoints (kube-auth.int.test.ts runs the same plugin against the real apiserver with RBAC).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { KubeClient } from "../kube-client.ts";
import { silentLogger } from "../logger.ts";
import type { ErrorBody } from "./errors.ts";
import { KubeAuth } from "./kube-auth.ts";
import { buildService } from "./service.ts";

/** Answers reviews: token "alice-token" is alice, who may get things in namespace team-a only. */
class StandInReviewApiserver {
  readonly reviews: Array<{ kind: string; spec: Record<string, unknown> }> = [];
  private readonly server = http.createServer((req, res) => {
    let text = "";
    req.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    req.on("end", () => {
      const review = JSON.parse(text) as { kind: string; spec: Record<string, unknown> };
      this.reviews.push(review);
      res.setHeader("content-type", "application/json");
      if (review.kind === "TokenReview") {
        const alice = review.spec.token === "alice-token";
        const status = alice
          ? { authenticated: true, user: { username: "alice", uid: "u-1", groups: ["team-a-users"] } }
          : { authenticated: false, error: "token has expired" };
        res.end(JSON.stringify({ ...review, status }));
        return;
      }
      const attributes = review.spec.resourceAttributes as { namespace?: string; verb: string };
      const allowed = attributes.namespace === "team-a" && attributes.verb === "get";
      res.end(
        JSON.stringify({ ...review, status: { allowed, ...(!allowed && { reason: "no RBAC rule" }) } }),
      );
    });
  });

  private port = 0;

  async start(): Promise<KubeClient> {
    await this.listen();
    const port = this.port;
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: "stand-in", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "stand-in", token: "operator" }],
      contexts: [{ name: "stand-in", cluster: "stand-in", user: "stand-in" }],
      currentContext: "stand-in",
    });
    return new KubeClient(config);
  }

  /** Listens (again, on the same port after a stop). */
  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let apiserver: StandInReviewApiserver;
let client: KubeClient;
beforeEach(async () => {
  apiserver = new StandInReviewApiserver();
  client = await apiserver.start();
});
afterEach(async () => {
  client.close();
  await apiserver.stop();
});

async function featureService(auth: KubeAuth) {
  const app = await buildService({ name: "features", logger: silentLogger(), registry: new Registry() });
  app.post(
    "/features/:namespace/fetch",
    {
      schema: { params: z.object({ namespace: z.string() }), body: z.object({ group: z.string() }) },
      ...auth.require({
        verb: "get",
        group: "darwin.dreamhorizon.org",
        resource: "featuregroups",
        namespace: (request) => (request.params as { namespace: string }).namespace,
        name: (request) => (request.body as { group: string }).group,
      }),
    },
    async (request) => ({ user: auth.user(request).username }),
  );
  return app;
}

const fetch = (namespace: string, token?: string) => ({
  method: "POST" as const,
  url: `/features/${namespace}/fetch`,
  headers: token ? { authorization: `Bearer ${token}` } : {},
  body: { group: "riders" },
});

describe("KubeAuth", () => {
  it("lets an allowed user through and tells the handler who it is", async () => {
    const app = await featureService(new KubeAuth({ client }));
    const res = await app.inject(fetch("team-a", "alice-token"));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: "alice" });
    const access = apiserver.reviews.find((r) => r.kind === "SubjectAccessReview");
    expect(access?.spec).toEqual({
      user: "alice",
      uid: "u-1",
      groups: ["team-a-users"],
      resourceAttributes: {
        verb: "get",
        group: "darwin.dreamhorizon.org",
        resource: "featuregroups",
        namespace: "team-a",
        name: "riders",
      },
    });
  });

  it("answers 401 without a token, saying how to send one", async () => {
    const app = await featureService(new KubeAuth({ client }));
    const res = await app.inject(fetch("team-a"));
    expect(res.statusCode).toBe(401);
    expect(res.headers["www-authenticate"]).toContain("Bearer");
    const { error } = res.json<ErrorBody>();
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.message).toContain("Authorization: Bearer <token>");
    expect(apiserver.reviews).toEqual([]);
  });

  it("answers 401 with the apiserver's reason for a token it rejects", async () => {
    const app = await featureService(new KubeAuth({ client }));
    const res = await app.inject(fetch("team-a", "stale-token"));
    expect(res.statusCode).toBe(401);
    expect(res.json<ErrorBody>().error.message).toBe(
      "the Kubernetes API rejected the token: token has expired",
    );
  });

  it("answers 403 naming the user, verb, resource and namespace", async () => {
    const app = await featureService(new KubeAuth({ client }));
    const res = await app.inject(fetch("team-b", "alice-token"));
    expect(res.statusCode).toBe(403);
    const { error } = res.json<ErrorBody>();
    expect(error.code).toBe("FORBIDDEN");
    expect(error.message).toBe(
      'user "alice" may not get featuregroups.darwin.dreamhorizon.org "riders" in namespace "team-b": no RBAC rule; an RBAC Role bound to the user must grant it',
    );
  });

  it("reuses answers within the TTL and asks again after it", async () => {
    const auth = new KubeAuth({ client, cacheTtlMs: 200 });
    const app = await featureService(auth);
    await Promise.all([1, 2, 3].map(() => app.inject(fetch("team-a", "alice-token"))));
    await app.inject(fetch("team-a", "alice-token"));
    expect(apiserver.reviews.map((r) => r.kind)).toEqual(["TokenReview", "SubjectAccessReview"]);
    await new Promise((resolve) => setTimeout(resolve, 250)); // the TTL itself is what is tested
    await app.inject(fetch("team-a", "alice-token"));
    expect(apiserver.reviews).toHaveLength(4);
  });

  it("keeps at most cacheMaxEntries tokens", async () => {
    const auth = new KubeAuth({ client, cacheMaxEntries: 2 });
    for (const token of ["t1", "t2", "t3", "t1"]) await auth.authenticate(token);
    // t1 was evicted by t3, so it was reviewed twice.
    expect(apiserver.reviews.filter((r) => r.spec.token === "t1")).toHaveLength(2);
  });

  it("answers 503 when the apiserver cannot be reached, and does not keep that answer", async () => {
    const auth = new KubeAuth({ client });
    const app = await featureService(auth);
    await apiserver.stop();
    const res = await app.inject(fetch("team-a", "alice-token"));
    expect(res.statusCode).toBe(503);
    expect(res.json<ErrorBody>().error.message).toContain(
      "could not check the request with the Kubernetes API",
    );
    await apiserver.listen();
    expect((await app.inject(fetch("team-a", "alice-token"))).statusCode).toBe(200);
  });
});
