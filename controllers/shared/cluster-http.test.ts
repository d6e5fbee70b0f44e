import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeClient, KubeRequest } from "../../operator/kube-client.ts";
import { apiserverProxyHttp, serviceProxyPath } from "./cluster-http.ts";
import { clusterEndpoints, clusterHttpRules, DEFAULT_RAY_DASHBOARD, endpointsOf } from "./endpoints.ts";

describe("serviceProxyPath", () => {
  it("maps a Service URL to the apiserver's proxy path, keeping path and query", () => {
    const url = endpointsOf(clusterEndpoints.parse({}), {
      namespace: "team-a",
      rayCluster: "housing-project-ray",
      jupyter: "housing-project-jupyter",
    }).rayDashboard;
    expect(url).toBe("http://housing-project-ray-head-svc.team-a.svc:8265");
    expect(serviceProxyPath(`${url}/api/v0/actors?limit=100`)).toBe(
      "/api/v1/namespaces/team-a/services/housing-project-ray-head-svc:8265/proxy/api/v0/actors?limit=100",
    );
  });

  it("names the scheme for https and the default ports, and accepts the cluster domain", () => {
    expect(serviceProxyPath("https://web.ns.svc.cluster.local/x")).toBe(
      "/api/v1/namespaces/ns/services/https:web:443/proxy/x",
    );
    expect(serviceProxyPath("http://web.ns.svc/")).toBe("/api/v1/namespaces/ns/services/web:80/proxy/");
  });

  it("leaves URLs that name no Service alone", () => {
    expect(serviceProxyPath("http://127.0.0.1:8265/api/jobs/")).toBeUndefined();
    expect(serviceProxyPath("http://ray.example.com:8265/")).toBeUndefined();
  });
});

describe("apiserverProxyHttp", () => {
  const sent: KubeRequest[] = [];
  const client = {
    requestText: async (req: KubeRequest) => {
      sent.push(req);
      return { status: 404, body: "not found" };
    },
  } as unknown as KubeClient;
  let direct = "";
  const server = createServer((req, res) => res.end(`direct ${req.method} ${req.url}`));
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    direct = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it("sends Service URLs through the apiserver with the body, and passes the Service's answer on", async () => {
    const http = apiserverProxyHttp(client);
    const answer = await http("POST", "http://head.ns.svc:8265/api/jobs/", { body: { entrypoint: "x" } });
    expect(answer).toEqual({ status: 404, body: "not found" });
    expect(sent.at(-1)).toMatchObject({
      method: "POST",
      path: "/api/v1/namespaces/ns/services/head:8265/proxy/api/jobs/",
      body: { entrypoint: "x" },
    });
  });

  it("puts a token in the query, since the apiserver keeps the Authorization header for itself", async () => {
    await apiserverProxyHttp(client)("GET", "http://nb.ns.svc:8888/api/status?no_track_activity=1", {
      token: "s3cret/+",
    });
    expect(sent.at(-1)?.path).toBe(
      "/api/v1/namespaces/ns/services/nb:8888/proxy/api/status?no_track_activity=1&token=s3cret%2F%2B",
    );
  });

  it("sends other URLs straight", async () => {
    const count = sent.length;
    const answer = await apiserverProxyHttp(client)("GET", `${direct}/api/version`);
    expect(answer).toEqual({ status: 200, body: "direct GET /api/version" });
    expect(sent.length).toBe(count);
  });
});

describe("clusterEndpoints.via", () => {
  it("defaults to the network, which needs no extra permission", () => {
    const endpoints = clusterEndpoints.parse(undefined);
    expect(endpoints).toEqual({
      rayDashboard: DEFAULT_RAY_DASHBOARD,
      jupyter: expect.any(String),
      via: "network",
    });
    expect(clusterHttpRules(endpoints)).toEqual([]);
  });

  it("through the apiserver needs the service proxy", () => {
    expect(clusterHttpRules(clusterEndpoints.parse({ via: "apiserver" }))).toEqual([
      { apiGroups: [""], resources: ["services/proxy"], verbs: ["get", "create"] },
    ]);
  });

  it("names the choices for a wrong value", () => {
    const result = clusterEndpoints.safeParse({ via: "proxy" });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(["via"]);
    expect(result.error?.issues[0]?.message).toContain('"apiserver"');
  });
});
