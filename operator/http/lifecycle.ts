/** Listening and stopping: a service stops taking connections on SIGTERM and lets requests in flight finish. */
import type { AddressInfo } from "node:net";
import type { Service } from "./service.ts";

/** Listens and resolves with the port (useful when asking for port 0). */
export async function listenService(app: Service, port: number, host: string): Promise<number> {
  await app.listen({ port, host });
  return (app.server.address() as AddressInfo).port;
}

/**
 * Stops accepting connections, closes idle keep-alive ones and waits for requests in flight; after
 * `graceMs` the connections still open are cut so a stuck request cannot hold the process.
 */
export async function closeGracefully(app: Service, graceMs = 10_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      app.log.warn({ graceMs }, "Cut connections still open after the grace period");
      app.server.closeAllConnections();
      resolve();
    }, graceMs);
  });
  try {
    await Promise.race([app.close(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export interface SignalShutdown {
  /** Resolves with the signal once the service has closed. */
  closed: Promise<NodeJS.Signals>;
  /** Removes the signal handlers (when the process stops the service another way). */
  dispose(): void;
}

/**
 * Closes the service gracefully on the first of `signals` (by default SIGTERM, what the kubelet sends, and
 * SIGINT). The caller decides what the process does afterwards (flush, exit).
 */
export function closeOnSignals(
  app: Service,
  {
    signals = ["SIGTERM", "SIGINT"],
    graceMs = 10_000,
  }: { signals?: NodeJS.Signals[]; graceMs?: number } = {},
): SignalShutdown {
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const closed = new Promise<NodeJS.Signals>((resolve, reject) => {
    onSignal = (signal) => {
      dispose();
      app.log.info({ signal, graceMs }, "Received signal; closing");
      closeGracefully(app, graceMs).then(() => resolve(signal), reject);
    };
  });
  const handlers = signals.map((signal) => [signal, () => onSignal(signal)] as const);
  const dispose = () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
  for (const [signal, handler] of handlers) process.once(signal, handler);
  return { closed, dispose };
}
