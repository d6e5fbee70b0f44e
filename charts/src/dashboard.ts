/**
 * Darwin's Grafana dashboard (charts/darwin/dashboards/darwin.json, shipped by the chart as a ConfigMap for
 * Grafana's dashboard sidecar): the operator (reconciles, errors, queue depth, watch restarts, leadership,
 * webhook) and the data plane (feature server requests and store reads, materializer lag, rows and dead
 * letters, Chronos ingest). Every query names metrics the code registers; charts/dashboard.test.ts checks
 * that against the sources, so a renamed metric fails a test instead of emptying a panel. Pure.
 */

/** One panel: a title, its queries (PromQL, with the legend of each) and the unit of its axis. */
interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Array<{ expr: string; legend: string }>;
}

const RATE = "[5m]";

const OPERATOR: PanelSpec[] = [
  {
    title: "Reconciles per second",
    description: "Reconciles by controller and result (success, error, requeue).",
    unit: "ops",
    targets: [
      {
        expr: `sum by (controller, result) (rate(controller_runtime_reconcile_total${RATE}))`,
        legend: "{{controller}} {{result}}",
      },
    ],
  },
  {
    title: "Reconcile errors per second",
    description:
      "Failed reconciles (retried with backoff) and terminal ones (not retried until the object changes).",
    unit: "ops",
    targets: [
      {
        expr: `sum by (controller) (rate(controller_runtime_reconcile_errors_total${RATE}))`,
        legend: "{{controller}}",
      },
      {
        expr: `sum by (controller) (rate(controller_runtime_terminal_reconcile_errors_total${RATE}))`,
        legend: "{{controller}} terminal",
      },
    ],
  },
  {
    title: "Reconcile duration p99",
    description: "99th percentile of one reconcile's duration, by controller.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, controller) (rate(controller_runtime_reconcile_time_seconds_bucket${RATE})))`,
        legend: "{{controller}}",
      },
    ],
  },
  {
    title: "Work queue depth",
    description: "Keys waiting in each controller's queue.",
    unit: "short",
    targets: [{ expr: "sum by (name) (workqueue_depth)", legend: "{{name}}" }],
  },
  {
    title: "Watch restarts",
    description:
      "Informer watches restarted (expired, closed or failed), by resource and reason, per 15 minutes.",
    unit: "short",
    targets: [
      {
        expr: "sum by (resource, reason) (increase(darwin_informer_watch_restarts_total[15m]))",
        legend: "{{resource}} {{reason}}",
      },
    ],
  },
  {
    title: "Leader",
    description: "1 on the replica that holds the leader lease.",
    unit: "short",
    targets: [{ expr: "max by (pod, name) (leader_election_master_status)", legend: "{{pod}}" }],
  },
  {
    title: "Webhook requests per second",
    description: "Admission reviews the webhook answered.",
    unit: "ops",
    targets: [
      {
        expr: `sum by (webhook, code) (rate(controller_runtime_webhook_requests_total${RATE}))`,
        legend: "{{webhook}} {{code}}",
      },
    ],
  },
  {
    title: "Webhook latency p99",
    description: "99th percentile of an admission review's duration.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, webhook) (rate(controller_runtime_webhook_latency_seconds_bucket${RATE})))`,
        legend: "{{webhook}}",
      },
    ],
  },
];

const DATA_PLANE: PanelSpec[] = [
  {
    title: "Feature server requests per second",
    description: "Requests by route and status code.",
    unit: "reqps",
    targets: [
      {
        expr: `sum by (route, code) (rate(http_request_duration_seconds_count{service="feature-server"}${RATE}))`,
        legend: "{{route}} {{code}}",
      },
    ],
  },
  {
    title: "Feature server request latency p99",
    description: "99th percentile of a request's duration, by route.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.99, sum by (le, route) (rate(http_request_duration_seconds_bucket{service="feature-server"}${RATE})))`,
        legend: "{{route}}",
      },
    ],
  },
  {
    title: "Online store read latency p50 / p99",
    description: "The Cassandra reads of one request (all keys, concurrently), by outcome.",
    unit: "s",
    targets: [
      {
        expr: `histogram_quantile(0.5, sum by (le) (rate(feature_server_store_read_seconds_bucket${RATE})))`,
        legend: "p50",
      },
      {
        expr: `histogram_quantile(0.99, sum by (le, outcome) (rate(feature_server_store_read_seconds_bucket${RATE})))`,
        legend: "p99 {{outcome}}",
      },
    ],
  },
  {
    title: "Materializer lag",
    description: "Messages of each feature topic not yet committed (in every store), summed over partitions.",
    unit: "short",
    targets: [{ expr: "sum by (topic) (materializer_partition_lag)", legend: "{{topic}}" }],
  },
  {
    title: "Materialized rows per second",
    description: "Rows written, over all replicas and by group.",
    unit: "rowsps",
    targets: [
      { expr: "sum(materializer_rows_per_second)", legend: "all (last 10 s)" },
      {
        expr: `sum by (namespace, group) (rate(materializer_rows_written_total${RATE}))`,
        legend: "{{namespace}}/{{group}}",
      },
    ],
  },
  {
    title: "Dead letters",
    description: "Messages sent to <topic>.dlq (invalid rows), by group, per 15 minutes.",
    unit: "short",
    targets: [
      {
        expr: "sum by (namespace, group) (increase(materializer_dead_letters_total[15m]))",
        legend: "{{namespace}}/{{group}}",
      },
    ],
  },
  {
    title: "Chronos events accepted per second",
    description: "Events Kafka acknowledged, by namespace.",
    unit: "ops",
    targets: [
      {
        expr: `sum by (namespace) (rate(chronos_events_accepted_total${RATE}))`,
        legend: "{{namespace}}",
      },
    ],
  },
  {
    title: "Chronos ingest requests",
    description: "POSTs of events by route and status code (503: Kafka could not take them).",
    unit: "reqps",
    targets: [
      {
        expr: `sum by (route, code) (rate(http_request_duration_seconds_count{service="chronos",method="POST"}${RATE}))`,
        legend: "{{route}} {{code}}",
      },
    ],
  },
];

const WIDTH = 8;
const HEIGHT = 8;

/** The dashboard as Grafana's JSON model. */
export function darwinDashboard(): Record<string, unknown> {
  const panels: Array<Record<string, unknown>> = [];
  let id = 1;
  let y = 0;
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, resolved by Grafana
  const datasource = { type: "prometheus", uid: "${datasource}" };
  for (const [title, specs] of [
    ["Operator", OPERATOR],
    ["Data plane", DATA_PLANE],
  ] as const) {
    panels.push({
      id: id++,
      type: "row",
      title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    specs.forEach((spec, i) => {
      panels.push({
        id: id++,
        type: "timeseries",
        title: spec.title,
        description: spec.description,
        datasource,
        gridPos: { h: HEIGHT, w: WIDTH, x: (i % 3) * WIDTH, y: y + Math.floor(i / 3) * HEIGHT },
        fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
        options: { legend: { displayMode: "list", placement: "bottom", showLegend: true } },
        targets: spec.targets.map((t, j) => ({
          refId: String.fromCharCode(65 + j),
          datasource,
          expr: t.expr,
          legendFormat: t.legend,
        })),
      });
    });
    y += Math.ceil(specs.length / 3) * HEIGHT;
  }
  return {
    uid: "darwin-overview",
    title: "Darwin",
    description: "The Darwin operator and data plane.",
    tags: ["darwin"],
    timezone: "utc",
    schemaVersion: 39,
    refresh: "30s",
    time: { from: "now-6h", to: "now" },
    editable: true,
    templating: {
      list: [
        {
          name: "datasource",
          label: "Prometheus",
          type: "datasource",
          query: "prometheus",
          current: {},
          hide: 0,
        },
      ],
    },
    panels,
  };
}

/** Every PromQL expression of the dashboard. */
export function dashboardQueries(dashboard = darwinDashboard()): string[] {
  const panels = dashboard.panels as Array<{ targets?: Array<{ expr: string }> }>;
  return panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
}
