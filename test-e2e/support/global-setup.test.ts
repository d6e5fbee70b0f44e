import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isReady, tiersFor } from "./global-setup.ts";

const dir = mkdtempSync(join(tmpdir(), "darwin-tiers-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe("tiersFor", () => {
  it("reads the @testbed line of each file and unites the tiers", () => {
    const a = file("a.int.test.ts", "// @testbed cluster\nimport x from 'y';\n");
    const b = file("b.int.test.ts", "/** docs */\n// @testbed data control\n");
    expect(tiersFor([a, b]).sort()).toEqual(["cluster", "control", "data"]);
  });

  it("gives a file without the line the control plane", () => {
    expect(tiersFor([file("c.int.test.ts", "import x from 'y';\n")])).toEqual(["control"]);
  });
});

describe("isReady", () => {
  const status = [
    "kube_apiserver             ready  kube_apiserver=4242 ",
    "darwin_operator            down   ",
    "darwin_operator_x          ready  ",
  ].join("\n");

  it("reads a component's line of hack/testbed status", () => {
    expect(isReady(status, "kube_apiserver")).toBe(true);
    expect(isReady(status, "darwin_operator")).toBe(false);
    expect(
      isReady(`${status}\ndarwin_operator            ready  darwin_operator=77 `, "darwin_operator"),
    ).toBe(true);
  });
});
