/**
 * The `feature-server` entry point: `node cmd/feature-server.ts [--kubeconfig FILE]`. Configuration comes
 * from DARWIN_* environment variables (dataplane/feature-server/config.ts): Cassandra contact points and
 * data center, port, namespace, maximum keys per request.
 */
import { parseArgs } from "node:util";
import { loadFeatureServerConfig } from "../dataplane/feature-server/config.ts";
import { startFeatureServer } from "../dataplane/feature-server/server.ts";
import { closeOnSignals, listenService } from "../operator/http/index.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

const USAGE = `usage: feature-server [--kubeconfig FILE]

  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
Environment: DARWIN_FEATURE_SERVER_HOST, DARWIN_FEATURE_SERVER_PORT, DARWIN_FEATURE_SERVER_NAMESPACE,
DARWIN_FEATURE_SERVER_MAX_KEYS, DARWIN_FEATURE_SERVER_READ_PATTERN, DARWIN_CASSANDRA_CONTACT,
DARWIN_CASSANDRA_DATACENTER, DARWIN_KAFKA_BROKERS, DARWIN_FEATURE_SERVER_MAX_PUSH_ROWS,
DARWIN_FEATURE_SERVER_PUSH_TIMEOUT_MS, DARWIN_LOG_LEVEL`;

async function main(): Promise<void> {
  let args: { kubeconfig?: string | undefined; help?: boolean | undefined };
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: { kubeconfig: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let config: ReturnType<typeof loadFeatureServerConfig>;
  try {
    config = loadFeatureServerConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, { component: "feature-server" });
  const client = KubeClient.load({ kubeconfig: args.kubeconfig, userAgent: "darwin-feature-server" });
  const server = await startFeatureServer({ config, client, log });
  const shutdown = closeOnSignals(server.app);
  const port = await listenService(server.app, config.port, config.host);
  log.info({ port, host: config.host, namespace: config.namespace ?? "*" }, "Started feature server");
  const signal = await shutdown.closed;
  await server.close();
  client.close();
  log.info({ signal }, "Stopped feature server");
}

await main().catch((err: unknown) => {
  process.stderr.write(
    `feature-server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
