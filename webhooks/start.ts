/**
 * `startWebhookServer`: what the operator's entry point calls. It gets a serving certificate (self-managed or
 * cert-manager), serves admission reviews over HTTPS, keeps the API server's trust (caBundle) current, and
 * optionally applies the ValidatingWebhookConfiguration itself.
 */
import type { Server } from "node:https";
import { type Logger, pino } from "pino";
import type { Registry } from "prom-client";
import type { LookupSource } from "../api/validation/context.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import { buildApp } from "./app.ts";
import { startMountedCertificates } from "./certs/mounted.ts";
import { type SelfManagedCertificates, startSelfManagedCertificates } from "./certs/self-managed.ts";
import type { CertificateSource } from "./certs/source.ts";
import { renderValidatingWebhookConfiguration, type WebhookConfigurationOptions } from "./configuration.ts";
import {
  apiLookupSource,
  applyWebhookConfiguration,
  injectCaBundle,
  secretCertificateStore,
} from "./kube.ts";

export interface SelfManagedCertificateOptions {
  mode: "self-managed";
  /** Namespace of the webhook Service and of the Secret holding the certificates. */
  namespace: string;
  /** The Service the API server calls; its DNS names go into the certificate. */
  serviceName: string;
  /** @default `${serviceName}-tls` */
  secretName?: string;
  /** Extra DNS names for the certificate. */
  dnsNames?: string[];
  /** IP addresses for the certificate. @default ["127.0.0.1"] (the local testbed) */
  ipAddresses?: string[];
  /** @default 90 days */
  servingLifetimeMs?: number;
  /** @default 10 years */
  caLifetimeMs?: number;
  /** @default 2/3 */
  rotateAfter?: number;
  /** @default 1 minute */
  recheckIntervalMs?: number;
}

export interface CertManagerCertificateOptions {
  mode: "cert-manager";
  /** Mounted Secret of the cert-manager Certificate: tls.crt, tls.key (and ca.crt). */
  directory: string;
  /** @default 30 seconds */
  pollIntervalMs?: number;
}

export type WebhookConfigurationManagement =
  /** Leave the ValidatingWebhookConfiguration alone (cert-manager injects the caBundle). */
  | { manage: "none" }
  /** Patch the caBundle of an existing configuration (installed by the Helm chart) and keep it current. */
  | { manage: "inject-ca"; name: string }
  /** Server-side apply the whole rendered configuration, caBundle included, and re-apply on CA changes. */
  | { manage: "apply"; options: Omit<WebhookConfigurationOptions, "caBundle"> };

export interface StartWebhookServerOptions {
  /** The operator's client: the process talks to the API server through one client. */
  client: KubeClient;
  certificates: SelfManagedCertificateOptions | CertManagerCertificateOptions;
  /** @default { manage: "none" } */
  configuration?: WebhookConfigurationManagement;
  /** Port to listen on; 0 picks a free one. @default 9443 */
  port?: number;
  /** @default "0.0.0.0" */
  host?: string;
  /** Where the rules read DarwinRuntimes and ServeEnvironments. @default the API server, per request */
  lookups?: LookupSource;
  logger?: Logger;
  /** Registry for the webhook metrics (the operator's /metrics registry). */
  registry?: Registry;
}

export interface WebhookServer {
  /** The port listened on (useful with port 0). */
  port: number;
  /** PEM of the CA the API server must trust, when this process knows it. */
  readonly caBundle: string | undefined;
  /** The HTTPS server (for tests and connection metrics). */
  server: Server;
  /** Self-managed mode: replace the serving certificate now. */
  rotateCertificate(): Promise<void>;
  /** Answers every request from now on with `Connection: close` (shutdown has begun). */
  drain(): void;
  /** Stops serving; leaves the webhook configuration in place (see README, failurePolicy). */
  close(): Promise<void>;
}

export async function startWebhookServer(options: StartWebhookServerOptions): Promise<WebhookServer> {
  const logger = (options.logger ?? pino({ level: "info" })).child({ component: "webhook" });
  const { client } = options;
  const source = await startCertificates(options, logger);
  const app = await buildApp({
    lookups: options.lookups ?? apiLookupSource(client),
    certificate: source.certificate,
    logger,
    ...(options.registry && { registry: options.registry }),
  });
  source.onCertificate((pair) => app.setCertificate(pair));

  const management = options.configuration ?? { manage: "none" };
  let stopped = false;
  const announce = async (caBundle: string | undefined) => {
    if (stopped) return;
    if (management.manage === "inject-ca" && caBundle) {
      if (!(await injectCaBundle(client, management.name, caBundle))) {
        logger.warn(
          { name: management.name },
          "ValidatingWebhookConfiguration not found; will inject the caBundle when it appears",
        );
      }
    } else if (management.manage === "apply") {
      await applyWebhookConfiguration(
        client,
        renderValidatingWebhookConfiguration({ ...management.options, ...(caBundle && { caBundle }) }),
      );
    }
  };
  source.onCaBundle(async (pem) => {
    try {
      await announce(pem);
    } catch (error) {
      logger.error({ err: error }, "Failed to update the webhook caBundle; retrying at the next check");
    }
  });

  let address: { port: number };
  try {
    address = await app.listen(options.port ?? 9443, options.host ?? "0.0.0.0");
    // Listen first: a configuration with failurePolicy Fail must not point at a server that is not up.
    await announce(source.caBundle);
  } catch (error) {
    source.close();
    await app.close();
    throw error;
  }
  logger.info(
    { port: address.port, mode: options.certificates.mode, configuration: management.manage },
    "Started admission webhook",
  );

  return {
    port: address.port,
    get caBundle() {
      return source.caBundle;
    },
    server: app.server,
    async rotateCertificate() {
      if (!("rotateNow" in source))
        throw new Error("certificates come from cert-manager; rotate the Certificate there");
      await (source as SelfManagedCertificates).rotateNow();
    },
    drain: () => app.drain(),
    async close() {
      stopped = true;
      source.close();
      await app.close();
      logger.info("Stopped admission webhook");
    },
  };
}

function startCertificates(options: StartWebhookServerOptions, logger: Logger): Promise<CertificateSource> {
  const certs = options.certificates;
  if (certs.mode === "cert-manager") {
    return startMountedCertificates({
      directory: certs.directory,
      logger,
      ...(certs.pollIntervalMs !== undefined && { pollIntervalMs: certs.pollIntervalMs }),
    });
  }
  const { namespace, serviceName } = certs;
  return startSelfManagedCertificates({
    store: secretCertificateStore(options.client, namespace, certs.secretName ?? `${serviceName}-tls`),
    dnsNames: [...serviceDnsNames(serviceName, namespace), ...(certs.dnsNames ?? [])],
    ipAddresses: certs.ipAddresses ?? ["127.0.0.1"],
    logger,
    ...(certs.servingLifetimeMs !== undefined && { servingLifetimeMs: certs.servingLifetimeMs }),
    ...(certs.caLifetimeMs !== undefined && { caLifetimeMs: certs.caLifetimeMs }),
    ...(certs.rotateAfter !== undefined && { rotateAfter: certs.rotateAfter }),
    ...(certs.recheckIntervalMs !== undefined && { recheckIntervalMs: certs.recheckIntervalMs }),
  });
}

/** The names a Service answers to inside the cluster. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.cluster.local`,
  ];
}
