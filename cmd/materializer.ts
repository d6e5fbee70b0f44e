/**
 * The `materializer` entry point: `node cmd/materializer.ts [--kubeconfig FILE]`. Configuration comes from
 * DARWIN_* environment variables (dataplane/materializer/config.ts).
 */
import { parseArgs } from "node:util";
import { loadMaterializerConfig } from "../dataplane/materializer/config.ts";
import { startMaterializer } from "../dataplane/materializer/run.ts";
import { closeOnSignals, listenService } from "../operator/http/index.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

const USAGE = `usage: materializer [--kubeconfig FILE]

  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
Environment: DARWIN_KAFKA_BROKERS, DARWIN_CASSANDRA_CONTACT, DARWIN_CASSANDRA_DATACENTER,
DARWIN_MATERIALIZER_GROUP, DARWIN_MATERIALIZER_NAMESPACE, DARWIN_MATERIALIZER_MAX_BATCH,
DARWIN_MATERIALIZER_CONCURRENCY, DARWIN_MATERIALIZER_STATUS_INTERVAL_MS, DARWIN_MATERIALIZER_HOST,
DARWIN_MATERIALIZER_PORT, DARWIN_LOG_LEVEL`;

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
  let config: ReturnType<typeof loadMaterializerConfig>;
  try {
    config = loadMaterializerConfig();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const log = createLogger(config.logLevel, { component: "materializer" });
  const client = KubeClient.load({ kubeconfig: args.kubeconfig, userAgent: "darwin-materializer" });
  const running = await startMaterializer({ config, client, log });
  const shutdown = closeOnSignals(running.app);
  const port = await listenService(running.app, config.port, config.host);
  log.info(
    { port, host: config.host, namespace: config.namespace ?? "*" },
    "Listening for probes and metrics",
  );
  const signal = await shutdown.closed;
  await running.close();
  client.close();
  log.info({ signal }, "Stopped materializer process");
}

await main().catch((err: unknown) => {
  process.stderr.write(
    `materializer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
