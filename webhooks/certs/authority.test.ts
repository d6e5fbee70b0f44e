import { createSecureContext } from "node:tls";
import { describe, expect, it } from "vitest";
import {
  CLOCK_SKEW_MS,
  certificateInfo,
  createCertificateAuthority,
  issueServingCertificate,
  rotationTime,
  servingCertificateFits,
} from "./authority.ts";

const HOUR = 3_600_000;

describe("certificate authority", () => {
  it("issues serving certificates for DNS names and IPs, signed by the CA, rotated at 2/3 of their lifetime", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const ca = await createCertificateAuthority("darwin-webhook-ca", {
      now,
      lifetimeMs: 10 * 365 * 24 * HOUR,
    });
    const wanted = {
      dnsNames: ["darwin-webhook.darwin-system.svc", "localhost"],
      ipAddresses: ["127.0.0.1"],
    };
    const serving = await issueServingCertificate(ca, { ...wanted, now, lifetimeMs: 90 * 24 * HOUR });

    const info = certificateInfo(serving.cert);
    expect(info.subjectAltNames).toEqual([
      "DNS:darwin-webhook.darwin-system.svc",
      "DNS:localhost",
      "IP Address:127.0.0.1",
    ]);
    expect(info.notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_MS);
    expect(info.notAfter.getTime()).toBe(now.getTime() + 90 * 24 * HOUR);
    expect(rotationTime(serving.cert).getTime()).toBe(now.getTime() + 60 * 24 * HOUR);

    expect(servingCertificateFits(serving, ca, wanted, new Date(now.getTime() + HOUR))).toBe(true);
    // Node's TLS stack loads the pair.
    expect(() => createSecureContext(serving)).not.toThrow();
  });

  it("rejects a certificate that is expired, from another CA, for other names, or with the wrong key", async () => {
    const now = new Date();
    const ca = await createCertificateAuthority("ca", { now, lifetimeMs: 24 * HOUR });
    const other = await createCertificateAuthority("other", { now, lifetimeMs: 24 * HOUR });
    const wanted = { dnsNames: ["svc.ns.svc"] };
    const serving = await issueServingCertificate(ca, { ...wanted, now, lifetimeMs: HOUR });
    const another = await issueServingCertificate(ca, { ...wanted, now, lifetimeMs: HOUR });

    expect(servingCertificateFits(serving, ca, wanted, now)).toBe(true);
    expect(servingCertificateFits(serving, ca, wanted, new Date(now.getTime() + 2 * HOUR))).toBe(false);
    expect(servingCertificateFits(serving, other, wanted, now)).toBe(false);
    expect(
      servingCertificateFits(serving, ca, { dnsNames: ["svc.ns.svc"], ipAddresses: ["127.0.0.1"] }, now),
    ).toBe(false);
    expect(servingCertificateFits({ cert: serving.cert, key: another.key }, ca, wanted, now)).toBe(false);
    expect(servingCertificateFits({ cert: "garbage", key: "" }, ca, wanted, now)).toBe(false);
  });
});
