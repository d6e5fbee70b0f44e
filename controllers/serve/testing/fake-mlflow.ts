/**
 * A fake MLflow for unit tests: an HTTP server on 127.0.0.1 that answers the requests recorded from the
 * real one (fixtures/mlflow.json) with the recorded status and body, and 404s anything else.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";

export interface RecordedCase {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  status: number;
  response: unknown;
}

export interface MlflowFixtures {
  recordedFrom: string;
  model: string;
  runPath: string;
  runId: string;
  cases: Record<string, RecordedCase>;
}

export const mlflowFixtures = (): MlflowFixtures =>
  JSON.parse(
    readFileSync(join(import.meta.dirname, "..", "fixtures", "mlflow.json"), "utf8"),
  ) as MlflowFixtures;

const key = (method: string, path: string, params: Record<string, string>) =>
  `${method} ${path} ${JSON.stringify(Object.entries(params).sort())}`;

export async function startFakeMlflow(
  fixtures: MlflowFixtures,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const answers = new Map<string, RecordedCase>();
  for (const c of Object.values(fixtures.cases)) {
    const params = c.method === "POST" ? { body: JSON.stringify(c.body) } : (c.query ?? {});
    answers.set(key(c.method, c.path, params), c);
  }
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://x");
      const params =
        req.method === "POST"
          ? { body: JSON.stringify(JSON.parse(body || "null")) }
          : Object.fromEntries(url.searchParams);
      const answer = answers.get(key(req.method ?? "GET", url.pathname, params));
      res.writeHead(answer?.status ?? 404, { "content-type": "application/json" });
      res.end(
        JSON.stringify(answer?.response ?? { error_code: "ENDPOINT_NOT_FOUND", message: "not recorded" }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
