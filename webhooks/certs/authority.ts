/**
 * A small certificate authority for the webhook: a self-signed CA and serving certificates it signs, as PEM.
 * Keys are ECDSA P-256 (fast to generate, accepted by the API server's Go TLS stack).
 */
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API first.
import "reflect-metadata";
import { createPrivateKey, X509Certificate as NodeX509, randomBytes, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING_ALGORITHM = { name: "ECDSA", hash: "SHA-256" } as const;
/** Certificates start this long before they are made, so a peer whose clock is behind still accepts them. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A certificate and its private key, PEM encoded (what a kubernetes.io/tls Secret holds). */
export interface KeyPair {
  cert: string;
  key: string;
}

export interface IssueOptions {
  /** When the certificate becomes valid; defaults to now. Backdated by CLOCK_SKEW_MS. */
  now?: Date;
  lifetimeMs: number;
}

export async function createCertificateAuthority(
  commonName: string,
  options: IssueOptions,
): Promise<KeyPair> {
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(options);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=${commonName}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) };
}

export interface ServingOptions extends IssueOptions {
  dnsNames: readonly string[];
  ipAddresses?: readonly string[];
}

/** A serving certificate for the given names, signed by `ca`. */
export async function issueServingCertificate(ca: KeyPair, options: ServingOptions): Promise<KeyPair> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(ca.key),
    KEY_ALGORITHM,
    false,
    ["sign"],
  );
  const keys = await generateKeys();
  const { notBefore, notAfter } = validity(options);
  const names: x509.JsonGeneralName[] = [
    ...options.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${options.dnsNames[0] ?? options.ipAddresses?.[0] ?? "darwin-webhook"}`,
    issuer: caCert.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
    ],
  });
  return { cert: cert.toString("pem"), key: await exportKey(keys.privateKey) };
}

/** What the webhook needs to know about a certificate it holds. */
export interface CertificateInfo {
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** `DNS:foo, IP Address:127.0.0.1` entries, as Node prints them. */
  subjectAltNames: string[];
}

export function certificateInfo(pem: string): CertificateInfo {
  const cert = new NodeX509(pem);
  return {
    serialNumber: cert.serialNumber,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    subjectAltNames: (cert.subjectAltName ?? "").split(", ").filter(Boolean),
  };
}

/**
 * Whether `pair` is a serving certificate signed by `ca`, valid at `now`, whose key matches, and that covers
 * every wanted name. Anything else is replaced rather than served.
 */
export function servingCertificateFits(
  pair: KeyPair,
  ca: KeyPair,
  wanted: { dnsNames: readonly string[]; ipAddresses?: readonly string[] },
  now: Date,
): boolean {
  try {
    const cert = new NodeX509(pair.cert);
    const issuer = new NodeX509(ca.cert);
    if (!cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)) return false;
    if (!cert.checkPrivateKey(createPrivateKey(pair.key))) return false;
    const info = certificateInfo(pair.cert);
    if (now < info.notBefore || now >= info.notAfter) return false;
    const sans = new Set(info.subjectAltNames);
    return (
      wanted.dnsNames.every((n) => sans.has(`DNS:${n}`)) &&
      (wanted.ipAddresses ?? []).every((ip) => sans.has(`IP Address:${ip}`))
    );
  } catch {
    return false;
  }
}

/**
 * When to replace a certificate: once `fraction` of its lifetime (counted from issue, not from the backdated
 * notBefore) has passed. 2/3 leaves a third of the lifetime to retry a failed rotation.
 */
export function rotationTime(pem: string, fraction = 2 / 3): Date {
  const { notBefore, notAfter } = certificateInfo(pem);
  const issued = notBefore.getTime() + CLOCK_SKEW_MS;
  return new Date(issued + (notAfter.getTime() - issued) * fraction);
}

function validity({ now = new Date(), lifetimeMs }: IssueOptions): { notBefore: Date; notAfter: Date } {
  // X.509 times have one-second precision; round so the computed rotation time matches the certificate.
  const start = Math.floor(now.getTime() / 1000) * 1000;
  return { notBefore: new Date(start - CLOCK_SKEW_MS), notAfter: new Date(start + lifetimeMs) };
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ["sign", "verify"])) as CryptoKeyPair;
}

async function exportKey(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** 16 random bytes, high bit clear so the DER integer stays positive. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString("hex");
}
