/**
 * The Grafana dashboard queries only metrics the code registers, with labels they carry: every metric name
 * in a panel's PromQL is looked up in the prom-client metric definitions of the sources (`new Counter`,
 * `Gauge`, `Histogram`, `Summary`), so renaming a metric or a label without the dashboard fails here. And
 * the chart ships the dashboard as generated.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { darwinDashboard, dashboardQueries } from "./src/dashboard.ts";
import { CHART_DIR, REPO_DIR } from "./src/files.ts";

interface Definition {
  type: string;
  labels: string[];
  file: string;
}

/** The metrics defined in the non-test TypeScript under `dirs`: name -> type and label names. */
function definedMetrics(dirs: readonly string[]): Map<string, Definition> {
  const metrics = new Map<string, Definition>();
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules") visit(path);
        continue;
      }
      if (!entry.name.endsWith(".ts") || entry.name.endsWith(".test.ts")) continue;
      const text = readFileSync(path, "utf8");
      for (const match of text.matchAll(/new (Counter|Gauge|Histogram|Summary)\b/g)) {
        const body = text.slice(match.index, match.index + 800);
        const name = /name:\s*(?:"([a-z_:][a-z0-9_:]*)"|([A-Z_]+)\b)/.exec(body);
        if (!name) continue;
        const constant = name[2] ? new RegExp(`const ${name[2]} = "([^"]+)"`).exec(text)?.[1] : undefined;
        const metric = name[1] ?? constant;
        if (!metric) continue;
        const labels = /labelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? "";
        metrics.set(metric, {
          type: match[1] as string,
          labels: [...labels.matchAll(/"([^"]+)"/g)].map((m) => m[1] as string),
          file: path,
        });
      }
    }
  };
  for (const dir of dirs) visit(join(REPO_DIR, dir));
  return metrics;
}

const FUNCTIONS = new Set(["sum", "max", "min", "avg", "rate", "increase", "histogram_quantile", "count"]);
/** Labels Prometheus adds to every scraped series, and the histograms' bucket bound. */
const TARGET_LABELS = new Set(["pod", "instance", "job", "le"]);

/** The metric names and the grouping and matcher labels of a PromQL expression. */
function parseQuery(expr: string): { metrics: string[]; labels: string[] } {
  const labels: string[] = [];
  let rest = expr.replace(/\{([^}]*)\}/g, (_, matchers: string) => {
    for (const m of matchers.matchAll(/([a-z_][a-z0-9_]*)\s*(?:=|!=|=~|!~)/g)) labels.push(m[1] as string);
    return "";
  });
  rest = rest.replace(/\b(by|without)\s*\(([^)]*)\)/g, (_, _kw, names: string) => {
    labels.push(...names.split(",").map((n) => n.trim()));
    return "";
  });
  rest = rest.replace(/\[[^\]]*\]/g, "").replace(/"[^"]*"/g, "");
  const metrics = [...rest.matchAll(/\b([a-z_:][a-z0-9_:]*)\b(?!\s*\()/g)]
    .map((m) => m[1] as string)
    .filter((t) => !FUNCTIONS.has(t));
  return { metrics, labels };
}

/** A histogram's series (name_bucket, _sum, _count) under its metric's name. */
function baseMetric(series: string, metrics: ReadonlyMap<string, Definition>): string {
  const suffix = /_(bucket|sum|count)$/.exec(series);
  if (suffix && !metrics.has(series)) {
    const base = series.slice(0, suffix.index);
    const definition = metrics.get(base);
    if (definition && (definition.type === "Histogram" || definition.type === "Summary")) return base;
  }
  return series;
}

describe("Grafana dashboard", () => {
  const metrics = definedMetrics(["operator", "controllers", "webhooks", "dataplane", "cmd"]);

  it("finds the metric definitions it checks against", () => {
    for (const known of [
      "controller_runtime_reconcile_total",
      "http_request_duration_seconds",
      "materializer_partition_lag",
    ])
      expect(metrics.has(known), known).toBe(true);
    expect(
      parseQuery('histogram_quantile(0.99, sum by (le, route) (rate(x_bucket{service="y"}[5m])))'),
    ).toEqual({
      metrics: ["x_bucket"],
      labels: ["service", "le", "route"],
    });
  });

  it("queries only metrics the code defines, by labels they have", () => {
    const problems: string[] = [];
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    for (const expr of queries) {
      const parsed = parseQuery(expr);
      expect(parsed.metrics.length, expr).toBeGreaterThan(0);
      const known = new Set(TARGET_LABELS);
      for (const series of parsed.metrics) {
        const definition = metrics.get(baseMetric(series, metrics));
        if (!definition) problems.push(`${series}: no metric of that name is defined (in ${expr})`);
        else for (const label of definition.labels) known.add(label);
      }
      for (const label of parsed.labels)
        if (!known.has(label))
          problems.push(`label ${label}: none of the query's metrics has it (in ${expr})`);
    }
    expect(problems).toEqual([]);
  });

  it("covers the operator and every data-plane service", () => {
    const all = dashboardQueries().join("\n");
    for (const name of [
      "controller_runtime_reconcile_total",
      "workqueue_depth",
      "controller_runtime_reconcile_errors_total",
      "darwin_informer_watch_restarts_total",
      'service="feature-server"',
      "feature_server_store_read_seconds",
      "materializer_partition_lag",
      "materializer_rows_written_total",
      "materializer_dead_letters_total",
      "chronos_events_accepted_total",
    ])
      expect(all).toContain(name);
  });

  it("is shipped by the chart as generated (npm run gen:chart)", () => {
    const shipped = JSON.parse(readFileSync(join(CHART_DIR, "dashboards", "darwin.json"), "utf8"));
    expect(shipped).toEqual(darwinDashboard());
  });
});
