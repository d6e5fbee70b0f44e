/** The request-duration histogram every service records, one series per service, method, route and status. */
import { Histogram, type Registry } from "prom-client";

const NAME = "http_request_duration_seconds";

export type RequestDuration = Histogram<"service" | "method" | "route" | "code">;

/**
 * Registers the histogram on `registry`, or returns the one already there: the operator's probes and its
 * webhook server share one registry and tell themselves apart by the `service` label.
 */
export function requestDuration(registry: Registry): RequestDuration {
  const existing = registry.getSingleMetric(NAME) as RequestDuration | undefined;
  return (
    existing ??
    new Histogram({
      name: NAME,
      help: "Duration of HTTP requests served, by service, method, route pattern and status code",
      labelNames: ["service", "method", "route", "code"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    })
  );
}
