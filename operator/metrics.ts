/**
 * Prometheus metrics, named like controller-runtime's so existing dashboards and alerts apply:
 * controller_runtime_reconcile_*, workqueue_*, leader_election_master_status, rest_client_requests_total.
 * Each operator gets its own registry, so several can live in one process (tests).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { InformerObserver } from "./informer.ts";
import type { KubeClient } from "./kube-client.ts";
import type { WorkQueueObserver } from "./workqueue.ts";

const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5,
  1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's workqueue buckets: 10 ns to 1000 s. */
const QUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);

export class OperatorMetrics {
  readonly registry = new Registry();

  readonly reconcileTotal = new Counter({
    name: "controller_runtime_reconcile_total",
    help: "Total number of reconciliations per controller",
    labelNames: ["controller", "result"] as const,
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: "controller_runtime_reconcile_errors_total",
    help: "Total number of reconciliation errors per controller",
    labelNames: ["controller"] as const,
    registers: [this.registry],
  });
  readonly terminalErrors = new Counter({
    name: "controller_runtime_terminal_reconcile_errors_total",
    help: "Total number of terminal reconciliation errors per controller",
    labelNames: ["controller"] as const,
    registers: [this.registry],
  });
  readonly reconcileTime = new Histogram({
    name: "controller_runtime_reconcile_time_seconds",
    help: "Length of time per reconciliation per controller",
    labelNames: ["controller"] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });
  readonly activeWorkers = new Gauge({
    name: "controller_runtime_active_workers",
    help: "Number of currently used workers per controller",
    labelNames: ["controller"] as const,
    registers: [this.registry],
  });
  readonly maxConcurrentReconciles = new Gauge({
    name: "controller_runtime_max_concurrent_reconciles",
    help: "Maximum number of concurrent reconciles per controller",
    labelNames: ["controller"] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: "workqueue_depth",
    help: "Current depth of workqueue",
    labelNames: ["name", "controller"] as const,
    registers: [this.registry],
  });
  readonly queueAdds = new Counter({
    name: "workqueue_adds_total",
    help: "Total number of adds handled by workqueue",
    labelNames: ["name", "controller"] as const,
    registers: [this.registry],
  });
  readonly queueRetries = new Counter({
    name: "workqueue_retries_total",
    help: "Total number of retries handled by workqueue",
    labelNames: ["name", "controller"] as const,
    registers: [this.registry],
  });
  readonly queueDuration = new Histogram({
    name: "workqueue_queue_duration_seconds",
    help: "How long in seconds an item stays in workqueue before being requested",
    labelNames: ["name", "controller"] as const,
    buckets: QUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly workDuration = new Histogram({
    name: "workqueue_work_duration_seconds",
    help: "How long in seconds processing an item from workqueue takes",
    labelNames: ["name", "controller"] as const,
    buckets: QUEUE_BUCKETS,
    registers: [this.registry],
  });
  readonly leaderStatus = new Gauge({
    name: "leader_election_master_status",
    help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
    labelNames: ["name"] as const,
    registers: [this.registry],
  });
  readonly restRequests = new Counter({
    name: "rest_client_requests_total",
    help: "Number of HTTP requests, partitioned by status code, method, and host",
    labelNames: ["code", "method", "host"] as const,
    registers: [this.registry],
  });
  readonly informerLists = new Counter({
    name: "darwin_informer_lists_total",
    help: "Full lists done by informers (the first one, and every relist after a 410 Gone)",
    labelNames: ["resource"] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: "darwin_informer_watch_restarts_total",
    help: "Watches restarted by informers, by reason (closed, gone, error, silence)",
    labelNames: ["resource", "reason"] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  queueObserver(controller: string): WorkQueueObserver {
    const labels = { name: controller, controller };
    return {
      depth: (n) => this.queueDepth.set(labels, n),
      added: () => this.queueAdds.inc(labels),
      retried: () => this.queueRetries.inc(labels),
      queued: (seconds) => this.queueDuration.observe(labels, seconds),
      worked: (seconds) => this.workDuration.observe(labels, seconds),
    };
  }

  informerObserver(): InformerObserver {
    return {
      listed: (resource) => this.informerLists.inc({ resource }),
      watchRestarted: (resource, reason) => this.watchRestarts.inc({ resource, reason }),
    };
  }

  /** Counts the client's requests; returns a function that stops counting. */
  observeClient(client: KubeClient): () => void {
    const host = new URL(client.server).host;
    return client.observe((r) =>
      this.restRequests.inc({ code: r.code === 0 ? "<error>" : String(r.code), method: r.method, host }),
    );
  }
}
