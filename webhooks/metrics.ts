/** Webhook metrics, named like controller-runtime's so existing dashboards and alerts apply. */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export interface WebhookMetrics {
  requests: Counter<"webhook" | "code">;
  latency: Histogram<"webhook">;
  inFlight: Gauge<"webhook">;
  /** Expiry of the serving certificate in use, so an alert can fire before a failed rotation bites. */
  certificateExpiry: Gauge;
}

/** Registers the metrics on `registry`, or returns the ones already registered there. */
export function webhookMetrics(registry: Registry): WebhookMetrics {
  const existing = <T>(name: string) => registry.getSingleMetric(name) as T | undefined;
  return {
    requests:
      existing("controller_runtime_webhook_requests_total") ??
      new Counter({
        name: "controller_runtime_webhook_requests_total",
        help: "Total number of admission requests by HTTP status code.",
        labelNames: ["webhook", "code"],
        registers: [registry],
      }),
    latency:
      existing("controller_runtime_webhook_latency_seconds") ??
      new Histogram({
        name: "controller_runtime_webhook_latency_seconds",
        help: "Histogram of the latency of processing admission requests.",
        labelNames: ["webhook"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers: [registry],
      }),
    inFlight:
      existing("controller_runtime_webhook_requests_in_flight") ??
      new Gauge({
        name: "controller_runtime_webhook_requests_in_flight",
        help: "Current number of admission requests being served.",
        labelNames: ["webhook"],
        registers: [registry],
      }),
    certificateExpiry:
      existing("darwin_webhook_certificate_expiry_timestamp_seconds") ??
      new Gauge({
        name: "darwin_webhook_certificate_expiry_timestamp_seconds",
        help: "When the webhook's serving certificate expires (Unix time).",
        registers: [registry],
      }),
  };
}
