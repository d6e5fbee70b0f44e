import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { type CertificateStore, ConflictError, type StoredCertificates } from "../kube.ts";
import { certificateInfo, createCertificateAuthority } from "./authority.ts";
import { startSelfManagedCertificates } from "./self-managed.ts";

const DAY = 86_400_000;
const logger = pino({ level: "silent" });

/** A Secret in memory, with resourceVersions and conflicts like the API server's. */
function memoryStore() {
  let stored: { certificates: StoredCertificates; resourceVersion: string } | undefined;
  let version = 0;
  const store: CertificateStore & { writes: number } = {
    writes: 0,
    async read() {
      return stored && { ...stored };
    },
    async create(certificates) {
      if (stored) throw new ConflictError("exists");
      stored = { certificates, resourceVersion: String(++version) };
      store.writes++;
    },
    async replace(certificates, resourceVersion) {
      if (stored?.resourceVersion !== resourceVersion) throw new ConflictError("stale");
      stored = { certificates, resourceVersion: String(++version) };
      store.writes++;
    },
  };
  return store;
}

const wanted = { dnsNames: ["darwin-webhook.darwin-system.svc"], ipAddresses: ["127.0.0.1"] };

describe("self-managed certificates", () => {
  it("creates a CA and serving certificate once and reuses them from the Secret", async () => {
    const store = memoryStore();
    const first = await startSelfManagedCertificates({ store, ...wanted, logger });
    const second = await startSelfManagedCertificates({ store, ...wanted, logger });
    expect(store.writes).toBe(1);
    expect(second.certificate).toEqual(first.certificate);
    expect(second.caBundle).toBe(first.caBundle);
    expect(certificateInfo(first.certificate.cert).subjectAltNames).toEqual([
      "DNS:darwin-webhook.darwin-system.svc",
      "IP Address:127.0.0.1",
    ]);
    first.close();
    second.close();
  });

  it("rotates the serving certificate after 2/3 of its lifetime, keeping the CA", async () => {
    const store = memoryStore();
    let clock = Date.now();
    const options = { store, ...wanted, logger, servingLifetimeMs: 90 * DAY, now: () => new Date(clock) };
    const certs = await startSelfManagedCertificates(options);
    const before = certs.certificate;
    const seen: string[] = [];
    certs.onCertificate((pair) => seen.push(certificateInfo(pair.cert).serialNumber));

    clock += 59 * DAY;
    expect((await startSelfManagedCertificates(options)).certificate).toEqual(before);
    clock += 2 * DAY;
    const later = await startSelfManagedCertificates(options);
    expect(later.certificate).not.toEqual(before);
    expect(later.caBundle).toBe(certs.caBundle);

    await certs.rotateNow();
    expect(seen).toHaveLength(1);
    expect(certs.caBundle).toBe(later.caBundle);
    for (const c of [certs, later]) c.close();
  });

  it("replaces a serving certificate that does not cover the wanted names", async () => {
    const store = memoryStore();
    const certs = await startSelfManagedCertificates({ store, ...wanted, logger });
    const renamed = await startSelfManagedCertificates({
      store,
      dnsNames: ["other.darwin-system.svc"],
      logger,
    });
    expect(renamed.certificate).not.toEqual(certs.certificate);
    expect(renamed.caBundle).toBe(certs.caBundle);
    certs.close();
    renamed.close();
  });

  it("lets one of two replicas rotate and the other adopt its certificate", async () => {
    const store = memoryStore();
    const a = await startSelfManagedCertificates({ store, ...wanted, logger });
    const b = await startSelfManagedCertificates({ store, ...wanted, logger });
    // Both force a rotation at once: one write wins, the loser re-reads and adopts the winner's certificate.
    await Promise.all([a.rotateNow(), b.rotateNow()]);
    expect(a.certificate).toEqual((await store.read())?.certificates?.serving);
    expect(b.certificate).toEqual((await store.read())?.certificates?.serving);
    a.close();
    b.close();
  });

  it("announces the CA before serving a certificate it signed", async () => {
    const store = memoryStore();
    const certs = await startSelfManagedCertificates({ store, ...wanted, logger });
    const events: string[] = [];
    certs.onCaBundle(async () => {
      await new Promise((r) => setTimeout(r, 5));
      events.push("ca");
    });
    certs.onCertificate(() => events.push("certificate"));
    // The CA in the Secret expired: a new CA and a new serving certificate, announced in that order.
    const stored = await store.read();
    if (!stored?.certificates) throw new Error("no certificates stored");
    const expiredCa = await createCertificateAuthority("old", {
      lifetimeMs: 1000,
      now: new Date(Date.now() - 3_600_000),
    });
    await store.replace({ ca: expiredCa, serving: stored.certificates.serving }, stored.resourceVersion);
    await certs.rotateNow();
    expect(events).toEqual(["ca", "certificate"]);
    expect(certs.caBundle).not.toBe(expiredCa.cert);
    certs.close();
  });
});
