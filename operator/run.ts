/**
 * Starts a whole operator process: configuration, client, metrics and health endpoints, the admission
 * webhooks, the manager with its controllers, and signal handling. main.ts calls it with Darwin's
 * controllers; tests call it with their own.
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ConfigError, loadConfig, type OperatorConfig } from "./config.ts";
import type { ControllerDefinition } from "./controller.ts";
import { closeGracefully, listenService } from "./http/lifecycle.ts";
import { buildOperatorServer } from "./http-server.ts";
import { KubeClient } from "./kube-client.ts";
import { createLogger } from "./logger.ts";
import { Manager } from "./manager.ts";
import { OperatorMetrics } from "./metrics.ts";

/** What the admission webhook server gets from the operator process. */
export interface WebhookDependencies {
  /** The `webhook` section of the operator configuration. */
  config: OperatorConfig["webhook"];
  /** The operator's kubeconfig (kubeconfig file or in-cluster service account). */
  kubeConfig: KubeConfig;
  client: KubeClient;
  log: Logger;
  /** Register webhook metrics on metrics.registry: they are served on the operator's /metrics. */
  metrics: OperatorMetrics;
}

/** A running webhook server; close() stops serving (the webhook configuration stays). */
export interface RunningWebhooks {
  close(): Promise<void>;
}

/** How the webhooks plug in: webhooks/ exports a function of this type. */
export type StartWebhooks = (deps: WebhookDependencies) => Promise<RunningWebhooks>;

export interface RunOptions {
  argv: string[];
  /** The controllers to run, made from the loaded configuration (prices, namespaces...). */
  controllers: (config: OperatorConfig) => ControllerDefinition[];
  /** Starts the admission webhooks when config.webhook.enabled. */
  startWebhooks?: StartWebhooks | undefined;
}

const USAGE = `usage: operator [--kubeconfig FILE] [--config FILE]

  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --config FILE      YAML or JSON configuration (default: $DARWIN_OPERATOR_CONFIG; see operator/config.ts)`;

/** Leader-election identity and Event reportingInstance: hostname (the pod name in a cluster) and pid. */
export function processIdentity(): string {
  return `${hostname()}_${process.pid}`;
}

export async function runOperator(options: RunOptions): Promise<void> {
  let args: { kubeconfig?: string | undefined; config?: string | undefined; help?: boolean | undefined };
  try {
    args = parseArgs({
      args: options.argv,
      options: {
        kubeconfig: { type: "string" },
        config: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
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

  let config: OperatorConfig;
  try {
    config = loadConfig({ file: args.config });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }

  const identity = processIdentity();
  const log = createLogger(config.logLevel, { instance: identity });
  const client = KubeClient.load({ kubeconfig: args.kubeconfig });
  const metrics = new OperatorMetrics();
  let shuttingDown = false;

  const manager = new Manager({
    client,
    config,
    log,
    metrics,
    identity,
    onLeadershipLost: () => {
      // Another replica may already be leading: stop everything and let the pod restart as a candidate.
      void shutdown("leadership lost", 1);
    },
  });
  const controllers = options.controllers(config);
  for (const controller of controllers) manager.register(controller);

  const server = await buildOperatorServer({
    registry: metrics.registry,
    logger: log,
    healthz: () => ({ ok: !shuttingDown, detail: "shutting down" }),
    readiness: [
      { name: "shutdown", check: () => ({ ok: !shuttingDown, detail: "shutting down" }) },
      {
        name: "informers",
        check: () => {
          const unsynced = manager.unsyncedInformers();
          return { ok: unsynced.length === 0, detail: `caches not synced: ${unsynced.join(", ")}` };
        },
      },
    ],
  });
  const httpPort = await listenService(server, config.http.port, config.http.host);
  log.info(
    { port: httpPort, host: config.http.host, server: client.server, identity },
    "Started HTTP server (metrics, healthz, readyz)",
  );

  // Admission webhooks: served by every replica (not only the leader), so they answer during failover.
  let webhooks: RunningWebhooks | undefined;
  if (config.webhook.enabled && options.startWebhooks) {
    webhooks = await options.startWebhooks({
      config: config.webhook,
      kubeConfig: client.kubeConfig,
      client,
      log,
      metrics,
    });
  } else if (config.webhook.enabled) {
    log.info("Skipped admission webhooks: no server is linked into this build");
  }

  async function shutdown(why: string, code: number): Promise<void> {
    if (shuttingDown) return;
    shuttingDown = true;
    log.info({ reason: why }, "Began shutdown");
    const forced = setTimeout(
      () => {
        log.error("Shutdown timed out");
        process.exit(1);
      },
      (config.shutdownTimeoutSeconds + 10) * 1000,
    );
    forced.unref();
    await manager.stop();
    await webhooks?.close();
    await closeGracefully(server);
    client.close();
    log.info({ exitCode: code }, "Stopped operator");
    process.exit(code);
  }

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (shuttingDown) {
        log.warn({ signal }, "Received a second signal");
        process.exit(1);
      }
      void shutdown(signal, 0);
    });
  }

  await manager.start();
  log.info(
    { controllers: controllers.map((c) => c.name), leaderElection: config.leaderElection.enabled },
    "Started operator",
  );
}
