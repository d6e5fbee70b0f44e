/**
 * The catalog HTTP API (`buildCatalogService`): ranked full-text search over assets, an asset with its
 * schema history, OpenLineage RunEvent intake (also at Marquez's path, `/api/v1/lineage`, so OpenLineage
 * clients configured for Marquez work unchanged) and the lineage graph around a dataset or job in Marquez's
 * shape. Access is Kubernetes RBAC per namespace (group darwin.dreamhorizon.org): `list catalogassets` to
 * search and read lineage, `get catalogassets` to read an asset, `create lineageevents` to post RunEvents.
 * A search returns only the namespaces the caller may list.
 */
import type { FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import { ASSET_TYPES } from "../../crds/src/catalog-asset.ts";
import { DNS_LABEL } from "../../crds/src/index.ts";
import { buildService, HttpError, type KubeAuth, type Service } from "../../operator/http/index.ts";
import type { Pool } from "../shared/mysql.ts";
import { allowedNamespaces, authenticated, requestNamespace, requireAccess } from "../shared/tenant.ts";
import { catalogNamespaces, getAsset, schemaHistory, searchAssets } from "./assets.ts";
import { lineageGraph, parseNodeId, recordRunEvent } from "./lineage.ts";
import { validateRunEvent } from "./openlineage.ts";

export interface CatalogServiceDependencies {
  pool: Pool;
  auth: KubeAuth;
  logger: Logger;
  registry: Registry;
  /** Deepest lineage query. @default 10 */
  maxDepth?: number;
}

const LIST = { verb: "list", resource: "catalogassets" };
const GET = { verb: "get", resource: "catalogassets" };
const POST_LINEAGE = { verb: "create", resource: "lineageevents" };

const namespaceParam = z.string().max(63).regex(DNS_LABEL, "must be a namespace name");
const field = z.object({
  name: z.string(),
  type: z.string(),
  description: z.string().optional(),
  nullable: z.boolean(),
});
const modelVersion = z.object({
  version: z.string(),
  status: z.string().optional(),
  aliases: z.array(z.string()),
  description: z.string().optional(),
  source: z.string().optional(),
  runId: z.string().optional(),
  experimentId: z.string().optional(),
  experimentName: z.string().optional(),
  createdAt: z.string().optional(),
  lineageNode: z.string().optional().describe("The version's node for GET /darwin-catalog/v1/lineage."),
});
const asset = z.object({
  namespace: z.string(),
  name: z.string(),
  type: z.string(),
  location: z.string(),
  format: z.string().optional(),
  owner: z.string(),
  description: z.string(),
  tags: z.array(z.string()),
  schema: z.array(field),
  schemaVersion: z.number(),
  updatedAt: z.string(),
  versions: z.array(modelVersion).optional().describe("A model's versions, newest first (MLflow's models)."),
});
const edge = z.object({ origin: z.string(), destination: z.string() });
const graphNode = z.object({
  id: z.string(),
  type: z.enum(["DATASET", "JOB"]),
  data: z.record(z.string(), z.unknown()),
  inEdges: z.array(edge),
  outEdges: z.array(edge),
});

export async function buildCatalogService(deps: CatalogServiceDependencies): Promise<Service> {
  const maxDepth = deps.maxDepth ?? 10;
  const app = await buildService({
    name: "darwin-catalog",
    description:
      "Darwin catalog: assets registered by CatalogAsset resources and MLflow's registered models, full-text search, schema history, and OpenLineage lineage.",
    logger: deps.logger,
    registry: deps.registry,
    // OpenLineage events carry schema facets; allow more than the default body size.
    bodyLimitBytes: 5 * 1024 * 1024,
    readiness: [
      {
        name: "mariadb",
        check: async () => {
          await deps.pool.query("SELECT 1");
          return { ok: true, detail: "" };
        },
      },
    ],
  });
  const auth = authenticated(deps.auth);

  app.get(
    "/darwin-catalog/v1/assets",
    {
      schema: {
        querystring: z.object({
          q: z
            .string()
            .max(512)
            .optional()
            .describe("Words matched against names, descriptions, tags and columns."),
          type: z.enum(ASSET_TYPES).optional(),
          tag: z.string().max(63).optional(),
          owner: z.string().max(320).optional(),
          namespace: namespaceParam
            .optional()
            .describe("One tenant; every namespace you may list when absent."),
          limit: z.coerce.number().int().min(1).max(200).default(20),
          offset: z.coerce.number().int().min(0).max(10_000).default(0),
        }),
        response: {
          200: z.object({ total: z.number(), assets: z.array(asset.extend({ score: z.number() })) }),
        },
      },
      ...auth,
    },
    async (request) => {
      const { namespace, ...query } = request.query;
      if (namespace) await requireAccess(deps.auth, request, LIST, [namespace]);
      const candidates = namespace ? [namespace] : await catalogNamespaces(deps.pool);
      const namespaces = namespace
        ? candidates
        : await allowedNamespaces(deps.auth, request, LIST, candidates);
      return searchAssets(deps.pool, { ...query, namespaces });
    },
  );

  app.get(
    "/darwin-catalog/v1/namespaces/:namespace/assets/:name",
    {
      schema: {
        params: z.object({ namespace: namespaceParam, name: z.string().min(1).max(253) }),
        response: {
          200: asset.extend({
            schemaHistory: z.array(
              z.object({ version: z.number(), fields: z.array(field), createdAt: z.string() }),
            ),
          }),
        },
      },
      ...auth,
    },
    async (request) => {
      const { namespace, name } = request.params;
      await requireAccess(deps.auth, request, GET, [namespace]);
      const found = await getAsset(deps.pool, { namespace, name });
      if (!found) throw new HttpError(404, "NOT_FOUND", `no asset "${name}" in namespace "${namespace}"`);
      return { ...found, schemaHistory: (await schemaHistory(deps.pool, { namespace, name })) ?? [] };
    },
  );

  const lineageQuery = z.object({
    namespace: namespaceParam
      .optional()
      .describe("The tenant; your service account's namespace when absent."),
  });
  const postLineage = async (request: FastifyRequest<{ Querystring: z.infer<typeof lineageQuery> }>) => {
    const tenant = requestNamespace(
      deps.auth.user(request),
      request.query.namespace,
      "querystring.namespace",
    );
    await requireAccess(deps.auth, request, POST_LINEAGE, [tenant]);
    const result = validateRunEvent(request.body);
    if ("issues" in result) {
      const first = result.issues[0] ?? { field: "body", message: "is not a RunEvent" };
      const error = new HttpError(
        400,
        "INVALID_REQUEST",
        `not an OpenLineage RunEvent (spec 2-0-2): ${result.issues.map((i) => `body.${i.field}: ${i.message}`).join("; ")}`,
        `body.${first.field}`,
      );
      throw error;
    }
    await recordRunEvent(deps.pool, tenant, result.event);
  };
  for (const path of ["/darwin-catalog/v1/lineage", "/api/v1/lineage"]) {
    app.post(
      path,
      {
        schema: {
          querystring: lineageQuery,
          // Validated against the OpenLineage JSON schema in the handler, which names the failing field.
          body: z
            .unknown()
            .describe("An OpenLineage RunEvent (https://openlineage.io/spec/2-0-2/OpenLineage.json)."),
          response: { 201: z.object({}) },
        },
        ...auth,
      },
      async (request, reply) => {
        await postLineage(request);
        return reply.code(201).send({});
      },
    );
  }

  app.get(
    "/darwin-catalog/v1/lineage",
    {
      schema: {
        querystring: lineageQuery.extend({
          nodeId: z
            .string()
            .min(1)
            .max(4096)
            .describe("dataset:<namespace>:<name> or job:<namespace>:<name>, as Marquez names nodes."),
          depth: z.coerce.number().int().min(0).max(maxDepth).default(3),
          limit: z.coerce.number().int().min(1).max(5000).default(1000).describe("Most nodes returned."),
        }),
        response: { 200: z.object({ graph: z.array(graphNode), truncated: z.boolean() }) },
      },
      ...auth,
    },
    async (request) => {
      const tenant = requestNamespace(
        deps.auth.user(request),
        request.query.namespace,
        "querystring.namespace",
      );
      await requireAccess(deps.auth, request, LIST, [tenant]);
      const ref = parseNodeId(request.query.nodeId);
      if (!ref)
        throw new HttpError(
          400,
          "INVALID_REQUEST",
          "querystring.nodeId: must be dataset:<namespace>:<name> or job:<namespace>:<name>",
          "querystring.nodeId",
        );
      const graph = await lineageGraph(deps.pool, tenant, ref, {
        depth: request.query.depth,
        maxNodes: request.query.limit,
      });
      if (!graph)
        throw new HttpError(
          404,
          "NOT_FOUND",
          `no lineage node ${request.query.nodeId} in namespace "${tenant}"`,
        );
      return graph;
    },
  );

  return app;
}
