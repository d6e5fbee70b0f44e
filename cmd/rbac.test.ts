import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { darwinRoles, dataplaneRbacFiles, findRbacDrift, rbacFiles } from "./rbac.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function writtenCopy(files: ReadonlyMap<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "rbac-"));
  dirs.push(dir);
  for (const [file, content] of files) writeFileSync(join(dir, file), content);
  return dir;
}

describe("config/rbac", () => {
  it("is what the controllers, the webhook and the data-plane services declare (npm run gen:rbac)", () => {
    expect(findRbacDrift(new Map([...rbacFiles(darwinRoles()), ...dataplaneRbacFiles()]))).toEqual([]);
  });

  it("drifts when a role gains a rule, and when a role goes away", () => {
    const roles = darwinRoles();
    const dir = writtenCopy(rbacFiles(roles));
    const [first, ...rest] = roles;
    if (!first) throw new Error("no roles");
    const widened = [
      { ...first, rules: [...first.rules, { apiGroups: [""], resources: ["nodes"], verbs: ["delete"] }] },
      ...rest,
    ];
    expect(findRbacDrift(rbacFiles(widened), dir)).toEqual([
      { file: `${first.name}.yaml`, problem: "differs" },
    ]);
    expect(findRbacDrift(rbacFiles(rest), dir)).toEqual([{ file: `${first.name}.yaml`, problem: "stale" }]);
  });

  it("binds every role to the operator's service account", () => {
    const objects = [...rbacFiles(darwinRoles()).values()].flatMap((text) =>
      parseAllDocuments(text).map((doc) => doc.toJS() as { kind: string; subjects?: unknown[] }),
    );
    const bindings = objects.filter((o) => o.kind.endsWith("Binding"));
    expect(bindings.length).toBe(objects.filter((o) => o.kind.endsWith("Role")).length);
    for (const binding of bindings) {
      expect(binding.subjects).toEqual([
        { kind: "ServiceAccount", name: "darwin-operator", namespace: "darwin-system" },
      ]);
    }
  });

  it("gives each data-plane service its own account, bound to a role with only what it does", () => {
    const files = dataplaneRbacFiles();
    expect([...files.keys()]).toEqual([
      "darwin-feature-server.yaml",
      "darwin-materializer.yaml",
      "darwin-chronos.yaml",
      "darwin-chronos-processor.yaml",
      "darwin-catalog.yaml",
    ]);
    const objects = parseAllDocuments(files.get("darwin-chronos.yaml") ?? "").map(
      (doc) => doc.toJS() as { kind: string; rules?: unknown[]; subjects?: unknown[] },
    );
    expect(objects.map((o) => o.kind)).toEqual(["ServiceAccount", "ClusterRole", "ClusterRoleBinding"]);
    expect(objects[1]?.rules).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
    expect(objects[2]?.subjects).toEqual([
      { kind: "ServiceAccount", name: "darwin-chronos", namespace: "darwin-system" },
    ]);
  });

  it("lets the materializer read FeatureGroups and apply their status, nothing more", () => {
    const objects = parseAllDocuments(dataplaneRbacFiles().get("darwin-materializer.yaml") ?? "").map(
      (doc) => doc.toJS() as { kind: string; rules?: unknown[] },
    );
    expect(objects[1]?.rules).toEqual([
      {
        apiGroups: ["darwin.dreamhorizon.org"],
        resources: ["featuregroups"],
        verbs: ["get", "list", "watch"],
      },
      { apiGroups: ["darwin.dreamhorizon.org"], resources: ["featuregroups/status"], verbs: ["patch"] },
    ]);
  });
});
