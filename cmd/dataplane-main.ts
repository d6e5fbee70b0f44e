/**
 * The start-up of a data-plane program that watches Kubernetes and serves HTTP (the feature server, the
 * materializer): `--kubeconfig` and `--help`, its configuration from DARWIN_* variables (a bad one exits 2
 * naming it), the logger, the Kubernetes client, the program's own start, listening, and on SIGTERM or
 * SIGINT: the HTTP service closed gracefully, then the program, then the client.
 */
import { parseArgs } from "node:util";
import type { Logger } from "pino";
import { closeOnSignals, listenService, type Service } from "../operator/http/index.ts";
import { KubeClient } from "../operator/kube-client.ts";
import { createLogger } from "../operator/logger.ts";

type LogLevel = Parameters<typeof createLogger>[0];

export interface DataplaneProgram<
  C extends { logLevel: LogLevel; port: number; host: string; namespace?: string | undefined },
> {
  /** The program's name: its log component and user agent (darwin-<name>). */
  name: string;
  /** What the program reads from the environment, for --help. */
  environment: string;
  /** The configuration from the environment; throws naming each bad variable. */
  load(): C;
  start(options: {
    config: C;
    client: KubeClient;
    log: Logger;
  }): Promise<{ app: Service; close(): Promise<void> }>;
}

export async function runDataplaneProgram<
  C extends { logLevel: LogLevel; port: number; host: string; namespace?: string | undefined },
>(program: DataplaneProgram<C>): Promise<void> {
  const usage = `usage: ${program.name} [--kubeconfig FILE]

  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
Environment: ${program.environment}`;
  let args: { kubeconfig?: string | undefined; help?: boolean | undefined };
  try {
    args = parseArgs({
      args: process.argv.slice(2),
      options: { kubeconfig: { type: "string" }, help: { type: "boolean", short: "h" } },
      strict: true,
    }).values;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  let config: C;
  try {
    config = program.load();
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  try {
    const log = createLogger(config.logLevel, { component: program.name });
    const client = KubeClient.load({ kubeconfig: args.kubeconfig, userAgent: `darwin-${program.name}` });
    const running = await program.start({ config, client, log });
    const shutdown = closeOnSignals(running.app);
    const port = await listenService(running.app, config.port, config.host);
    log.info(
      { port, host: config.host, namespace: config.namespace ?? "*" },
      `Started ${program.name} process`,
    );
    const signal = await shutdown.closed;
    await running.close();
    client.close();
    log.info({ signal }, `Stopped ${program.name} process`);
  } catch (err) {
    process.stderr.write(
      `${program.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  }
}
