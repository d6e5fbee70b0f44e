/** A TCP port on 127.0.0.1 that nothing listens on right now: for servers a test starts (webhooks, predict). */
import { createServer } from "node:net";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port")),
      );
    });
    probe.on("error", reject);
  });
}
