/** The webhook server over real TLS on a loopback port: it serves its certificate and rotates it in place. */
import { X509Certificate } from "node:crypto";
import { connect } from "node:tls";
import { afterEach, describe, expect, it } from "vitest";
import { buildApp, type WebhookApp } from "./app.ts";
import { createCertificateAuthority, issueServingCertificate } from "./certs/authority.ts";

const lookups = { runtimes: async () => [], serveEnvironments: async () => [] };

/** Serial number of the certificate a new TLS connection is served, and the answer to GET /healthz on it. */
function handshake(port: number, ca: string): Promise<{ serial: string; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const serial = socket.getPeerCertificate().serialNumber;
      socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
      let text = "";
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString();
      });
      socket.on("end", () => resolve({ serial, body: text.split("\r\n\r\n")[1] ?? "" }));
    });
    socket.on("error", reject);
  });
}

/**
 * GET /healthz on a kept-alive connection: whether the server kept it open after answering (its
 * `Connection` header, and no end of the socket within a moment).
 */
function keptAlive(port: number, ca: string): Promise<{ connection: string | undefined; open: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n");
    });
    let text = "";
    let timer: NodeJS.Timeout | undefined;
    const done = (open: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ connection: /\r\nconnection: ([^\r]+)/i.exec(text)?.[1]?.toLowerCase(), open });
    };
    socket.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      // The answer is in: does the server end the connection now, or keep it for the next request?
      if (text.includes("\r\n\r\n") && !timer) timer = setTimeout(() => done(true), 300);
    });
    socket.on("end", () => done(false));
    socket.on("error", reject);
  });
}

const DAY = 86_400_000;
const serving = { dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], lifetimeMs: DAY };
const serial = (pem: string) => new X509Certificate(pem).serialNumber;

let app: WebhookApp | undefined;
afterEach(async () => {
  await app?.close();
});

describe("webhook server over TLS", () => {
  it("serves its certificate and switches new connections to a rotated one without restarting", async () => {
    const ca = await createCertificateAuthority("test-webhook-ca", { lifetimeMs: DAY });
    const first = await issueServingCertificate(ca, serving);
    const second = await issueServingCertificate(ca, serving);
    app = await buildApp({ lookups, certificate: first });
    const { port } = await app.listen(0, "127.0.0.1");

    const before = await handshake(port, ca.cert);
    expect(before).toEqual({ serial: serial(first.cert), body: "ok" });
    app.setCertificate(second);
    expect((await handshake(port, ca.cert)).serial).toBe(serial(second.cert));
  });

  it("keeps connections alive until it drains, then closes each after its answer", async () => {
    const ca = await createCertificateAuthority("test-webhook-ca", { lifetimeMs: DAY });
    app = await buildApp({ lookups, certificate: await issueServingCertificate(ca, serving) });
    const { port } = await app.listen(0, "127.0.0.1");
    expect(await keptAlive(port, ca.cert)).toEqual({ connection: "keep-alive", open: true });
    app.drain();
    expect(await keptAlive(port, ca.cert)).toEqual({ connection: "close", open: false });
  });

  it("keeps the working certificate when given a broken pair", async () => {
    const ca = await createCertificateAuthority("test-webhook-ca", { lifetimeMs: DAY });
    const good = await issueServingCertificate(ca, serving);
    app = await buildApp({ lookups, certificate: good });
    const { port } = await app.listen(0, "127.0.0.1");
    expect(() => app?.setCertificate({ cert: good.cert, key: "not a key" })).toThrow();
    expect((await handshake(port, ca.cert)).serial).toBe(serial(good.cert));
  });
});
