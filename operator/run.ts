/**
 * Starts a whole operator process: configuration, client, metrics and health endpoints, the application's
 * components (an admission webhook server...), the manager with its controllers, and signal handling. An
 * application's entry point calls it with its configuration schema, controllers and components; tests
 * call it with their own.
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Logger } from "pino";
import { ConfigError, type ConfigSchema, loadConfig, type OperatorConfig, RUNTIME_CONFIG } from "./config.ts";
import type { ControllerDefinition } from "./controller.ts";
import { closeGracefully, listenService } from "./http/lifecycle.ts";
import { buildOperatorServer, operatorReadiness } from "./http-server.ts";
import { KubeClient } from "./kube-client.ts";
import { createLogger } from "./logger.ts";
import { Manager } from "./manager.ts";
import { OperatorMetrics } from "./metrics.ts";

/** What a component of the operator process gets: the configuration and the process's shared parts. */
export interface ComponentDependencies<C extends OperatorConfig> {
  config: C;
  /** The operator's client (kubeconfig file or in-cluster service account); the only one in the process. */
  client: KubeClient;
  log: Logger;
  /** Register the component's metrics on metrics.registry: they are served on the operator's /metrics. */
  metrics: OperatorMetrics;
}

/** A running component; close() stops it at shutdown, after the controllers. */
export interface RunningComponent {
  /**
   * Called as shutdown begins, while the process still serves (config.shutdownDelaySeconds): a server
   * stops keeping connections alive, so that its clients reconnect through the Service to another replica.
   */
  drain?(): void;
  close(): Promise<void>;
}

/**
 * A server or loop that runs beside the controllers on every replica, leader or not (an admission webhook
 * must answer during a failover). Returns undefined when its configuration turns it off.
 */
export type Component<C extends OperatorConfig> = (
  deps: ComponentDependencies<C>,
) => Promise<RunningComponent | undefined>;

export interface RunOptions<C extends OperatorConfig> {
  argv: string[];
  /** The configuration schema: the runtime's, or the runtime's extended with the application's sections. */
  config?: ConfigSchema<C>;
  /** Finalizer names are `<finalizerPrefix>/<controller name>` (e.g. the application's API group). */
  finalizerPrefix: string;
  /**
   * The controllers to run, made from the loaded configuration (prices, namespaces...) and the process's
   * one Kubernetes client (for a controller that hands its credentials to another service).
   */
  controllers: (config: C, deps: { client: KubeClient; log: Logger }) => ControllerDefinition[];
  /** Started after the HTTP endpoints and before the manager, in this order. */
  components?: Component<C>[];
}

const USAGE = `usage: operator [--kubeconfig FILE] [--config FILE]

  --kubeconfig FILE  kubeconfig to use (default: $KUBECONFIG, ~/.kube/config, then in-cluster)
  --config FILE      YAML or JSON configuration (default: $DARWIN_OPERATOR_CONFIG; see operator/config.ts)`;

/**
 * Leader-election identity and Event reportingInstance: the hostname (the pod name in a cluster), for
 * people, and a random UUID, as client-go does: replicas can share a hostname and a pid (1, in containers).
 */
export function processIdentity(): string {
  return `${hostname()}_${randomUUID()}`;
}

export async function runOperator<C extends OperatorConfig>(options: RunOptions<C>): Promise<void> {
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

  let config: C;
  try {
    config = loadConfig(
      { file: args.config },
      options.config ?? (RUNTIME_CONFIG as unknown as ConfigSchema<C>),
    );
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
    finalizerPrefix: options.finalizerPrefix,
    onLeadershipLost: () => {
      // Another replica may already be leading: stop everything and let the pod restart as a candidate.
      void shutdown("leadership lost", 1);
    },
  });
  const controllers = options.controllers(config, { client, log });
  for (const controller of controllers) manager.register(controller);

  const server = await buildOperatorServer({
    registry: metrics.registry,
    logger: log,
    healthz: () => ({ ok: !shuttingDown, detail: "shutting down" }),
    readiness: operatorReadiness(manager, () => shuttingDown),
  });
  const httpPort = await listenService(server, config.http.port, config.http.host);
  log.info(
    { port: httpPort, host: config.http.host, server: client.server, identity },
    "Started HTTP server (metrics, healthz, readyz)",
  );

  const components: RunningComponent[] = [];
  for (const start of options.components ?? []) {
    const running = await start({ config, client, log, metrics });
    if (running) components.push(running);
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
      (config.shutdownTimeoutSeconds + config.shutdownDelaySeconds + 10) * 1000,
    );
    forced.unref();
    const began = Date.now();
    for (const component of components) component.drain?.();
    await manager.stop();
    // Services may still route here for a moment: keep the webhook and probes answering until then.
    const delayMs = config.shutdownDelaySeconds * 1000 - (Date.now() - began);
    if (delayMs > 0) {
      log.info({ delayMs }, "Kept serving while Services stop routing here");
      await delay(delayMs);
    }
    for (const component of components.reverse()) await component.close();
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
