import { mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { createCertificateAuthority, issueServingCertificate, type KeyPair } from "./authority.ts";
import { startMountedCertificates } from "./mounted.ts";

const logger = pino({ level: "silent" });
let directory = "";

afterEach(async () => {
  if (directory) await rm(directory, { recursive: true, force: true });
});

async function write(dir: string, pair: KeyPair, ca?: string): Promise<void> {
  // Write then rename, as the kubelet's atomic writer swaps files in.
  for (const [name, content] of [
    ["tls.crt", pair.cert],
    ["tls.key", pair.key],
    ...(ca ? [["ca.crt", ca]] : []),
  ] as const) {
    await writeFile(join(dir, `.${name}.tmp`), content);
    await rename(join(dir, `.${name}.tmp`), join(dir, name));
  }
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("mounted certificates (cert-manager)", () => {
  it("loads tls.crt/tls.key and ca.crt, and reloads when they change", async () => {
    directory = await mkdtemp(join(tmpdir(), "darwin-webhook-certs-"));
    const ca = await createCertificateAuthority("cert-manager-ca", { lifetimeMs: 86_400_000 });
    const first = await issueServingCertificate(ca, { dnsNames: ["svc"], lifetimeMs: 3_600_000 });
    await write(directory, first, ca.cert);

    const certs = await startMountedCertificates({ directory, logger, pollIntervalMs: 100 });
    expect(certs.certificate).toEqual(first);
    expect(certs.caBundle).toBe(ca.cert);

    const loaded: KeyPair[] = [];
    certs.onCertificate((pair) => loaded.push(pair));
    const second = await issueServingCertificate(ca, { dnsNames: ["svc"], lifetimeMs: 3_600_000 });
    await write(directory, second);
    await until(() => loaded.length > 0);
    expect(loaded).toEqual([second]);
    expect(certs.certificate).toEqual(second);
    certs.close();
  });

  it("keeps the current certificate while the files hold a mismatched pair", async () => {
    directory = await mkdtemp(join(tmpdir(), "darwin-webhook-certs-"));
    const ca = await createCertificateAuthority("ca", { lifetimeMs: 86_400_000 });
    const first = await issueServingCertificate(ca, { dnsNames: ["svc"], lifetimeMs: 3_600_000 });
    const second = await issueServingCertificate(ca, { dnsNames: ["svc"], lifetimeMs: 3_600_000 });
    await write(directory, first);
    const certs = await startMountedCertificates({ directory, logger, pollIntervalMs: 50 });
    await writeFile(join(directory, "tls.crt"), second.cert); // new cert, old key: half a rotation
    await new Promise((r) => setTimeout(r, 200));
    expect(certs.certificate).toEqual(first);
    await writeFile(join(directory, "tls.key"), second.key);
    await until(() => certs.certificate.cert === second.cert);
    certs.close();
  });

  it("fails to start without a certificate", async () => {
    directory = await mkdtemp(join(tmpdir(), "darwin-webhook-certs-"));
    await expect(startMountedCertificates({ directory, logger })).rejects.toThrow(
      `cannot read tls.crt and tls.key in ${directory}`,
    );
  });
});
