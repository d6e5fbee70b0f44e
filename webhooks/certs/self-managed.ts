/**
 * Self-managed certificates: the operator is its own CA. The CA and the serving certificate live in one
 * Secret shared by every operator replica; whichever replica finds the serving certificate due replaces it
 * (optimistic concurrency on the Secret's resourceVersion), and every replica picks up what the Secret holds.
 */
import type { Logger } from "pino";
import { type CertificateStore, ConflictError, type StoredCertificates } from "../kube.ts";
import {
  certificateInfo,
  createCertificateAuthority,
  issueServingCertificate,
  type KeyPair,
  rotationTime,
  servingCertificateFits,
} from "./authority.ts";
import type { CertificateSource } from "./source.ts";

const DAY = 86_400_000;

export interface SelfManagedOptions {
  store: CertificateStore;
  /** Names the API server dials: the Service's DNS names, and 127.0.0.1 for a local testbed. */
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
  /** @default 10 years */
  caLifetimeMs?: number;
  /** @default 90 days */
  servingLifetimeMs?: number;
  /** Share of the serving certificate's lifetime after which it is replaced. @default 2/3 */
  rotateAfter?: number;
  /**
   * How often to re-read the Secret (another replica may have rotated) and re-announce the CA (a Helm
   * upgrade may have emptied the caBundle). @default 1 minute
   */
  recheckIntervalMs?: number;
  logger: Logger;
  /** @default () => new Date() */
  now?: () => Date;
}

export interface SelfManagedCertificates extends CertificateSource {
  /** Replaces the serving certificate now, whatever its age (the same CA signs the new one). */
  rotateNow(): Promise<void>;
}

/** Loads or creates the certificates, then keeps them current until `close()`. */
export async function startSelfManagedCertificates(
  options: SelfManagedOptions,
): Promise<SelfManagedCertificates> {
  const now = options.now ?? (() => new Date());
  const caLifetimeMs = options.caLifetimeMs ?? 3650 * DAY;
  const servingLifetimeMs = options.servingLifetimeMs ?? 90 * DAY;
  const rotateAfter = options.rotateAfter ?? 2 / 3;
  const recheckIntervalMs = options.recheckIntervalMs ?? 60_000;
  const wanted = { dnsNames: options.dnsNames, ipAddresses: options.ipAddresses ?? [] };
  const log = options.logger;

  const issueServing = (ca: KeyPair) =>
    issueServingCertificate(ca, { ...wanted, lifetimeMs: servingLifetimeMs, now: now() });
  const due = (serving: KeyPair) => now() >= rotationTime(serving.cert, rotateAfter);

  /** Reads the Secret and fixes what is missing, invalid or due; returns what the Secret then holds. */
  async function ensure(forceRotation = false): Promise<StoredCertificates> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const stored = await options.store.read();
      let { ca, serving } = stored?.certificates ?? { ca: undefined, serving: undefined };
      let changed = false;
      if (!ca || now() >= certificateInfo(ca.cert).notAfter) {
        ca = await createCertificateAuthority("darwin-webhook-ca", { lifetimeMs: caLifetimeMs, now: now() });
        serving = undefined;
        changed = true;
        log.info({ expires: certificateInfo(ca.cert).notAfter }, "Created webhook CA");
      }
      if (!serving || forceRotation || !servingCertificateFits(serving, ca, wanted, now()) || due(serving)) {
        serving = await issueServing(ca);
        changed = true;
      }
      const certificates = { ca, serving };
      if (!changed) return certificates;
      try {
        if (stored) await options.store.replace(certificates, stored.resourceVersion);
        else await options.store.create(certificates);
        log.info(
          {
            serial: certificateInfo(serving.cert).serialNumber,
            expires: certificateInfo(serving.cert).notAfter,
          },
          "Issued webhook serving certificate",
        );
        return certificates;
      } catch (error) {
        if (!(error instanceof ConflictError)) throw error;
        // Another replica wrote first; its certificates are as good as ours.
        forceRotation = false;
      }
    }
    throw new Error("the webhook certificate Secret kept changing under us; giving up for now");
  }

  let current = await ensure();
  const certificateListeners: ((pair: KeyPair) => void)[] = [];
  const caListeners: ((pem: string) => void | Promise<void>)[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function refresh(forceRotation = false): Promise<void> {
    const next = await ensure(forceRotation);
    if (closed) return;
    const caChanged = next.ca.cert !== current.ca.cert;
    const servingChanged = next.serving.cert !== current.serving.cert;
    current = next;
    // The API server must trust a new CA before it sees a certificate that CA signed.
    if (caChanged) for (const listener of caListeners) await listener(next.ca.cert);
    if (servingChanged) {
      log.info(
        { serial: certificateInfo(next.serving.cert).serialNumber },
        "Loaded webhook serving certificate",
      );
      for (const listener of certificateListeners) listener(next.serving);
    }
  }

  function schedule(delayMs: number): void {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(tick, Math.max(0, Math.min(delayMs, 2 ** 31 - 1)));
    timer.unref();
  }

  async function tick(): Promise<void> {
    try {
      await refresh();
      if (closed) return;
      // Re-announcing the CA each time repairs a configuration whose caBundle was reset.
      for (const listener of caListeners) await listener(current.ca.cert);
      const untilRotation = rotationTime(current.serving.cert, rotateAfter).getTime() - now().getTime();
      schedule(Math.min(recheckIntervalMs, untilRotation));
    } catch (error) {
      log.error({ err: error }, "Failed to refresh webhook certificates; retrying");
      schedule(Math.min(recheckIntervalMs, 10_000));
    }
  }

  schedule(
    Math.min(recheckIntervalMs, rotationTime(current.serving.cert, rotateAfter).getTime() - now().getTime()),
  );

  return {
    get certificate() {
      return current.serving;
    },
    get caBundle() {
      return current.ca.cert;
    },
    onCertificate(listener) {
      certificateListeners.push(listener);
    },
    onCaBundle(listener) {
      caListeners.push(listener);
    },
    async rotateNow() {
      await refresh(true);
    },
    close() {
      closed = true;
      clearTimeout(timer);
    },
  };
}
