/**
 * The chart's generated files match their sources (CRDs, RBAC, webhook configuration, values schema, Argo
 * CD checks), and the values it ships are valid by the schema users' values are checked against.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { KINDS } from "../crds/src/index.ts";
import { DATAPLANE_ACCESS } from "../dataplane/shared/rbac.ts";
import { CHART_DIR, chartFiles, dataplaneValuesKey, findChartDrift } from "./src/files.ts";
import { chartValues } from "./src/values.ts";

const values = () => parse(readFileSync(join(CHART_DIR, "values.yaml"), "utf8")) as Record<string, unknown>;

describe("charts/darwin", () => {
  it("has every generated file as its sources generate it (npm run gen:chart)", () => {
    expect(findChartDrift(chartFiles())).toEqual([]);
  });

  it("ships values the schema accepts", () => {
    expect(chartValues.safeParse(values()).error?.issues).toBeUndefined();
  });

  it("checks config with the operator's own schema, so its rules and paths are the operator's", () => {
    const bad = values();
    (bad.config as Record<string, unknown>).leaderElection = { leaseName: "" };
    expect(chartValues.safeParse(bad).error?.issues.map((i) => i.path.join("."))).toEqual([
      "config.leaderElection.leaseName",
    ]);
  });

  it("generates the RBAC of both certificate modes, each under its mode", () => {
    const rbac = chartFiles().get("templates/rbac.yaml") ?? "";
    expect(rbac).toContain('{{- if eq (include "darwin.certificatesMode" .) "self-managed" }}');
    expect(rbac).toContain('{{- if eq (include "darwin.certificatesMode" .) "cert-manager" }}');
    expect(rbac).not.toContain("darwin-chart-release-namespace");
  });

  it("names the cluster-scoped objects after the release, and the namespaced ones as before", () => {
    const files = chartFiles();
    for (const file of ["templates/rbac.yaml", "templates/dataplane-rbac.yaml"]) {
      const text = files.get(file) ?? "";
      const documents = text.split(/^---\n/m).filter((d) => /^kind: ClusterRole/m.test(d));
      expect(documents.length, file).toBeGreaterThan(0);
      for (const document of documents)
        expect(document, file).toMatch(/^ {2}name: \{\{ include "darwin\.fullname" \. \}\}-/m);
    }
    const rbac = files.get("templates/rbac.yaml") ?? "";
    expect(rbac).toContain('- {{ include "darwin.fullname" . }}-validating-webhook');
    expect(rbac).toContain("  name: darwin-operator-leader-election\n");
    expect(files.get("templates/validating-webhook.yaml")).toContain(
      'name: {{ include "darwin.fullname" . }}-validating-webhook',
    );
  });

  it("limits a namespaced install's webhook entries to its namespaces, leaving the cluster-scoped kinds out", () => {
    const webhook = chartFiles().get("templates/validating-webhook.yaml") ?? "";
    const entries = webhook.split(/^ {2}- name: /m).slice(1);
    expect(entries).toHaveLength(KINDS.length);
    for (const kind of KINDS) {
      const entry = entries.find((e) => e.startsWith(`${kind.plural}.validate.`)) ?? "";
      if (kind.scope === "Cluster") {
        expect(webhook, kind.kind).toContain(`{{- if not $namespaces }}\n  - name: ${kind.plural}.validate.`);
        expect(entry, kind.kind).not.toContain("namespaceSelector");
      } else
        expect(entry, kind.kind).toContain(
          "namespaceSelector:\n      matchExpressions:\n        - key: kubernetes.io/metadata.name",
        );
    }
  });

  it("generates each data-plane service's account and role from dataplane/shared/rbac.ts, when enabled", () => {
    const rbac = chartFiles().get("templates/dataplane-rbac.yaml") ?? "";
    const dataplane = values().dataplane as Record<string, unknown>;
    for (const { service } of DATAPLANE_ACCESS) {
      const key = dataplaneValuesKey(service);
      expect(dataplane[key], `dataplane.${key} in values.yaml`).toBeDefined();
      expect(rbac).toContain(`{{- if .Values.dataplane.${key}.enabled }}`);
      expect(rbac).toContain(`name: darwin-${service}\n`);
    }
    expect(rbac).toContain("featuregroups/status");
    expect(rbac).toContain("namespace: {{ .Release.Namespace }}");
    expect(rbac).not.toContain("darwin-chart-release-namespace");
    // The Deployments run as those accounts; no hand-written role is left beside them.
    const deployments = readFileSync(join(CHART_DIR, "templates", "dataplane.yaml"), "utf8");
    expect(deployments).toContain("serviceAccountName: {{ .name }}");
    expect(deployments).not.toContain("kind: ClusterRole");
  });
});
