/** Where the webhook's serving certificate comes from, whichever mode supplies it. */
import type { KeyPair } from "./authority.ts";

export interface CertificateSource {
  /** The serving certificate to use now. */
  readonly certificate: KeyPair;
  /** PEM of the CA the API server must trust, when this process knows it. */
  readonly caBundle: string | undefined;
  /** Called with each new serving certificate. */
  onCertificate(listener: (pair: KeyPair) => void): void;
  /** Called when the CA must be (re-)announced to the API server; awaited before a new certificate is served. */
  onCaBundle(listener: (pem: string) => void | Promise<void>): void;
  close(): void;
}
