// @testbed control
/**
 * KubeAuth against the testbed's apiserver (RBAC authorizer): a ServiceAccount's token from the TokenRequest
 * API, a Role that lets it get ConfigMaps in its namespace, and a route guarded by that rule.
 */
import { Registry } from "prom-client";
import { beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { useTestbed } from "../../test-e2e/support/fixture.ts";
import type { KubeClient } from "../kube-client.ts";
import { testLogger } from "../testing/testbed.ts";
import type { ErrorBody } from "./errors.ts";
import { KubeAuth } from "./kube-auth.ts";
import { buildService, type Service } from "./service.ts";

let client: KubeClient;
let namespace: string;
let other: string;
let token: string;
let app: Service;

async function create(path: string, body: object): Promise<unknown> {
  return client.request({ method: "POST", path, body });
}

const tb = useTestbed({ namespace: "http-auth" });

beforeAll(async () => {
  client = tb.client;
  namespace = tb.namespace;
  other = await tb.createNamespace("http-auth-other");
  await create(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "reader" },
  });
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/roles`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "Role",
    metadata: { name: "configmap-reader" },
    rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }],
  });
  await create(`/apis/rbac.authorization.k8s.io/v1/namespaces/${namespace}/rolebindings`, {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name: "reader" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
    subjects: [{ kind: "ServiceAccount", name: "reader", namespace }],
  });
  const request = z.object({ status: z.object({ token: z.string() }) }).parse(
    await create(`/api/v1/namespaces/${namespace}/serviceaccounts/reader/token`, {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: 600 },
    }),
  );
  token = request.status.token;

  const auth = new KubeAuth({ client });
  app = await buildService({ name: "auth-test", logger: testLogger(), registry: new Registry() });
  for (const verb of ["get", "delete"]) {
    app.get(
      `/${verb}/:namespace/configmaps/:name`,
      {
        schema: { params: z.object({ namespace: z.string(), name: z.string() }) },
        ...auth.require({
          verb,
          group: "",
          resource: "configmaps",
          namespace: (r) => (r.params as { namespace: string }).namespace,
          name: (r) => (r.params as { name: string }).name,
        }),
      },
      async (request) => ({ user: auth.user(request).username }),
    );
  }
});

const call = (url: string, bearer?: string) =>
  app.inject({ method: "GET", url, headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });

describe("KubeAuth with the apiserver's TokenReview and SubjectAccessReview", () => {
  it("lets the ServiceAccount do what its Role grants, in its namespace", async () => {
    const res = await call(`/get/${namespace}/configmaps/settings`, token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ user: `system:serviceaccount:${namespace}:reader` });
  });

  it("answers 403 for a verb the Role does not grant", async () => {
    const res = await call(`/delete/${namespace}/configmaps/settings`, token);
    expect(res.statusCode).toBe(403);
    expect(res.json<ErrorBody>().error.message).toContain(
      `user "system:serviceaccount:${namespace}:reader" may not delete configmaps "settings" in namespace "${namespace}"`,
    );
  });

  it("answers 403 in another tenant's namespace", async () => {
    const res = await call(`/get/${other}/configmaps/settings`, token);
    expect(res.statusCode).toBe(403);
    expect(res.json<ErrorBody>().error.message).toContain(`in namespace "${other}"`);
  });

  it("answers 401 without a token and with a token the apiserver did not issue", async () => {
    expect((await call(`/get/${namespace}/configmaps/settings`)).statusCode).toBe(401);
    const forged = `${token.slice(0, -8)}AAAAAAAA`;
    const res = await call(`/get/${namespace}/configmaps/settings`, forged);
    expect(res.statusCode).toBe(401);
    expect(res.json<ErrorBody>().error.message).toMatch(/^the Kubernetes API rejected the token: /);
  });
});
