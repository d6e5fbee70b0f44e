/**
 * The Python sources' pure parts, run with the machine's python3 (standard library only): how the predict
 * server turns bodies into MLflow's and routes paths, and that the Ray Serve application compiles.
 */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";

const DIR = import.meta.dirname;

function python(code: string): string {
  return execFileSync("python3", ["-c", code], {
    cwd: DIR,
    env: {
      ...process.env,
      PYTHONPATH: DIR,
      DARWIN_MODEL_URI: "models:/iris/1",
      DARWIN_SERVE_NAME: "iris-classifier",
    },
    encoding: "utf8",
  });
}

const convert = (body: unknown) =>
  JSON.parse(
    python(
      `import json, predict_server as p\ntry:\n  print(json.dumps({"ok": p.to_mlflow(json.loads(${JSON.stringify(JSON.stringify(body))}))}))\nexcept ValueError as e:\n  print(json.dumps({"error": str(e)}))`,
    ),
  ) as { ok?: unknown; error?: string };

describe("predict_server.py", () => {
  it.each([
    [{ features: [[5.1, 3.5, 1.4, 0.2]] }, { inputs: [[5.1, 3.5, 1.4, 0.2]] }],
    [{ input: [[3, 2, 1500, 2020]] }, { inputs: [[3, 2, 1500, 2020]] }],
    [{ inputs: [[1, 2]] }, { inputs: [[1, 2]] }],
    [
      { dataframe_split: { columns: ["a"], data: [[1]] } },
      { dataframe_split: { columns: ["a"], data: [[1]] } },
    ],
    [{ dataframe_records: [{ a: 1 }] }, { dataframe_records: [{ a: 1 }] }],
    [{ instances: [[1]] }, { instances: [[1]] }],
  ])("sends %j to MLflow as %j", (body, expected) => {
    expect(convert(body)).toEqual({ ok: expected });
  });

  it.each([
    [
      {},
      "exactly one of: features, input, inputs, instances, dataframe_split, dataframe_records (found no keys)",
    ],
    [{ features: [[1]], inputs: [[1]] }, "exactly one of"],
    [{ features: [1, 2] }, '"features" must be a list of rows'],
    ["text", "must be a JSON object"],
  ])("refuses %j", (body, message) => {
    expect(convert(body).error).toContain(message);
  });

  it.each([
    ["/predict", "predict"],
    ["/iris-classifier/predict", "predict"],
    ["/iris-classifier/predict/", "predict"],
    ["/invocations", "predict"],
    ["/health", "health"],
    ["/iris-classifier/health", "health"],
    ["/other-model/predict", "None"],
    ["/", "None"],
  ])("routes %s to %s", (path, route) => {
    expect(python(`import predict_server as p; print(p.route(${JSON.stringify(path)}))`).trim()).toBe(route);
  });
});

describe("darwin_serve.py", () => {
  it("is valid Python", () => {
    expect(python('import ast; ast.parse(open("darwin_serve.py").read()); print("ok")').trim()).toBe("ok");
  });
});
