import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { importViolations } from "./layers.ts";

const REPO = join(import.meta.dirname, "..", "..");
const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A scratch repository holding `files` (path -> source). */
function scratch(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), "layers-"));
  roots.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe("import direction", () => {
  it("holds in this repository", () => {
    expect(importViolations(REPO)).toEqual([]);
  });

  it("fails the runtime importing the application, naming the file, line and direction", () => {
    const root = scratch({
      "operator/manager.ts":
        'import { x } from "./informer.ts";\nimport { GROUP } from "../crds/src/index.ts";\n',
      "operator/informer.ts": "export const x = 1;\n",
      "crds/src/index.ts": 'export const GROUP = "example.org";\n',
    });
    expect(importViolations(root)).toEqual([
      {
        file: join("operator", "manager.ts"),
        line: 2,
        specifier: "../crds/src/index.ts",
        message: "operator/ may import only itself, not crds/",
      },
    ]);
  });

  it("fails a controller importing the webhook server, a type import and a dynamic import alike", () => {
    const root = scratch({
      "controllers/a/reconciler.ts": [
        'import type { Rule } from "../../webhooks/rules.ts";',
        'export const load = () => import("../../webhooks/rules.ts");',
        'import { KINDS } from "../../crds/src/index.ts";',
        'import { validate } from "../../api/validation/index.ts";',
      ].join("\n"),
    });
    expect(importViolations(root).map((v) => [v.line, v.message])).toEqual([
      [1, "controllers/ may import only crds/, api/, operator/, not webhooks/"],
      [2, "controllers/ may import only crds/, api/, operator/, not webhooks/"],
    ]);
  });

  it("keeps hermes away from the entry points and the webhooks", () => {
    const root = scratch({
      "cli/program.ts": [
        'import { KINDS } from "../crds/src/index.ts";',
        'import { KubeClient } from "../operator/kube-client.ts";',
        'import { populate } from "../dataplane/populator/run.ts";',
        'import { admit } from "../webhooks/server.ts";',
        'import { wire } from "../cmd/operator.ts";',
      ].join("\n"),
      "charts/src/values.ts": 'import { darwinConfig } from "../../cmd/config.ts";\n',
    });
    expect(importViolations(root).map((v) => [v.file, v.line, v.message])).toEqual([
      [
        join("cli", "program.ts"),
        4,
        "cli/ may import only crds/, api/, operator/, dataplane/, controllers/, not webhooks/",
      ],
      [join("cli", "program.ts"), 5, "cli/ imports cmd/: only entry points wire the application together"],
    ]);
  });

  it("keeps cmd/ for entry points, and lets tests use what they test against", () => {
    const root = scratch({
      "dataplane/server.ts": 'import { wire } from "../cmd/operator.ts";\n',
      "operator/manager.test.ts": 'import { KINDS } from "../crds/src/index.ts";\n',
      "operator/testing/fixture.ts": 'import { KINDS } from "../../crds/src/index.ts";\n',
      "cmd/operator.ts": 'import { a } from "../controllers/a.ts";\nimport { b } from "../webhooks/b.ts";\n',
    });
    expect(importViolations(root)).toEqual([
      expect.objectContaining({
        file: join("dataplane", "server.ts"),
        message: expect.stringMatching(/cmd\//),
      }),
    ]);
  });
});
