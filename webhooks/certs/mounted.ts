/**
 * Certificates supplied from outside (cert-manager): tls.crt and tls.key in a mounted directory, reloaded
 * when they change. Kubernetes updates a Secret volume by swapping a symlink, which `fs.watch` does not
 * always report, so a poll backs the watch up.
 */
import { createHash } from "node:crypto";
import { type FSWatcher, watch } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { createSecureContext } from "node:tls";
import type { Logger } from "pino";
import { certificateInfo, type KeyPair } from "./authority.ts";
import type { CertificateSource } from "./source.ts";

export interface MountedOptions {
  /** Directory holding tls.crt, tls.key and (cert-manager writes it) ca.crt. */
  directory: string;
  /** @default 30 seconds */
  pollIntervalMs?: number;
  logger: Logger;
}

interface Loaded {
  pair: KeyPair;
  ca: string | undefined;
  digest: string;
}

async function load(directory: string): Promise<Loaded> {
  const [cert, key, ca] = await Promise.allSettled([
    readFile(join(directory, "tls.crt"), "utf8"),
    readFile(join(directory, "tls.key"), "utf8"),
    readFile(join(directory, "ca.crt"), "utf8"),
  ]);
  if (cert.status === "rejected" || key.status === "rejected") {
    const missing = [cert.status === "rejected" && "tls.crt", key.status === "rejected" && "tls.key"].filter(
      Boolean,
    );
    const reason = (
      (cert.status === "rejected" ? cert.reason : (key as PromiseRejectedResult).reason) as Error
    ).message;
    throw new Error(
      `cannot read ${missing.join(" and ")} in ${directory} (${reason}): mount the certificate Secret (cert-manager's, with tls.crt and tls.key) there`,
    );
  }
  const pair = { cert: cert.value, key: key.value };
  createSecureContext(pair); // throws on a mismatched or half-written pair
  return {
    pair,
    ca: ca.status === "fulfilled" ? ca.value : undefined,
    digest: createHash("sha256").update(pair.cert).update(pair.key).digest("hex"),
  };
}

export async function startMountedCertificates(options: MountedOptions): Promise<CertificateSource> {
  const log = options.logger;
  let current = await load(options.directory);
  const certificateListeners: ((pair: KeyPair) => void)[] = [];
  let closed = false;
  let busy = false;

  async function reload(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    try {
      const next = await load(options.directory);
      if (next.digest === current.digest || closed) return;
      current = next;
      log.info(
        { serial: certificateInfo(next.pair.cert).serialNumber, directory: options.directory },
        "Loaded webhook serving certificate",
      );
      for (const listener of certificateListeners) listener(next.pair);
    } catch (error) {
      // A rotation in progress can show a new tls.crt with the old tls.key; the next event or poll retries.
      log.warn(
        { err: error, directory: options.directory },
        "Failed to load webhook certificate; keeping the current one",
      );
    } finally {
      busy = false;
    }
  }
  const reloadSoon = () => void reload();

  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(options.directory, { persistent: false }, reloadSoon);
    watcher.on("error", (error) =>
      log.warn({ err: error }, "Stopped watching the webhook certificate directory; polling only"),
    );
  } catch (error) {
    log.warn({ err: error }, "Cannot watch the webhook certificate directory; polling only");
  }
  const poll = setInterval(reloadSoon, options.pollIntervalMs ?? 30_000);
  poll.unref();

  return {
    get certificate() {
      return current.pair;
    },
    get caBundle() {
      return current.ca;
    },
    onCertificate(listener) {
      certificateListeners.push(listener);
    },
    onCaBundle() {
      // cert-manager's ca-injector keeps the caBundle; nothing to announce.
    },
    close() {
      closed = true;
      watcher?.close();
      clearInterval(poll);
    },
  };
}
