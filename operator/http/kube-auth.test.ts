/**
 * KubeAuth's answers and cache, with a stand-in for the apiserver's TokenReview and SubjectAccessReview
 * endpoints (kube-auth.int.test.ts runs the same plugin against the real apiserver with RBAC).
 */
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { z } from "zod";
import type { KubeClient } from "../kube-client.ts";
import { silentLogger } from "../logger.ts";
import { type SeenRequest, StandInBusyApiserver } from "../testing/busy-apiserver.ts";
import type { ErrorBody } from "./errors.ts";
import { KubeAuth } from "./kube-auth.ts";
import { buildService } from "./service.ts";

/** Answers reviews like the apiserver: token "alice-token" is alice, who may get things in team-a only. */
function review(request: SeenRequest): unknown {
  const body = JSON.parse(request.body) as { kind: string; spec: Record<string, unknown> };
  if (body.kind === "TokenReview") {
    const alice = body.spec.token === "alice-token";
    const status = alice
      ? { authenticated: true, user: { username: "alice", uid: "u-1", groups: ["team-a-users"] } }
      : { authenticated: false, error: "token has expired" };
    return { ...body, status };
  }
  const attributes = body.spec.resourceAttributes as { namespace?: string; verb: string };
  const allowed = attributes.namespace === "team-a" && attributes.verb === "get";
  return { ...body, status: { allowed, ...(!allowed && { reason: "no RBAC rule" }) } };
}

/** The reviews the service asked for. */
const reviews = () =>
  apiserver.seen.map((r) => JSON.parse(r.body) as { kind: string; spec: Record<string, unknown> });

let apiserver: StandInBusyApiserver;
let client: KubeClient;
beforeEach(async () => {
  apiserver = new StandInBusyApiserver(review);
  // No retries: the 503 test below wants the failure itself.
  client = await apiserver.start({ attempts: 1, maxDelayMs: 0 });
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
    const access = reviews().find((r) => r.kind === "SubjectAccessReview");
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
    expect(apiserver.seen).toEqual([]);
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
    expect(reviews().map((r) => r.kind)).toEqual(["TokenReview", "SubjectAccessReview"]);
    await new Promise((resolve) => setTimeout(resolve, 250)); // the TTL itself is what is tested
    await app.inject(fetch("team-a", "alice-token"));
    expect(apiserver.seen).toHaveLength(4);
  });

  it("keeps at most cacheMaxEntries tokens", async () => {
    const auth = new KubeAuth({ client, cacheMaxEntries: 2 });
    for (const token of ["t1", "t2", "t3", "t1"]) await auth.authenticate(token);
    // t1 was evicted by t3, so it was reviewed twice.
    expect(reviews().filter((r) => r.spec.token === "t1")).toHaveLength(2);
  });

  it("answers 503 when the apiserver cannot answer, and does not keep that answer", async () => {
    const app = await featureService(new KubeAuth({ client }));
    apiserver.busy = [{ code: 500 }];
    const res = await app.inject(fetch("team-a", "alice-token"));
    expect(res.statusCode).toBe(503);
    expect(res.json<ErrorBody>().error.message).toContain(
      "could not check the request with the Kubernetes API",
    );
    expect((await app.inject(fetch("team-a", "alice-token"))).statusCode).toBe(200);
  });
});
