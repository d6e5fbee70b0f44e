import { describe, expect, it } from "vitest";
import { imageRepository, parseImageReference } from "./image-reference.ts";

describe("image references", () => {
  it.each([
    ["127.0.0.1:25500/ml/iris:1.0", "127.0.0.1:25500", "ml/iris", "127.0.0.1:25500/ml/iris"],
    ["127.0.0.1:25500/iris", "127.0.0.1:25500", "iris", "127.0.0.1:25500/iris"],
    ["registry.example.com/ml/iris:1.0", "registry.example.com", "ml/iris", "registry.example.com/ml/iris"],
    ["localhost/iris:dev", "localhost", "iris", "localhost/iris"],
    ["python:3.11", "docker.io", "library/python", "python"],
    ["org/app", "docker.io", "org/app", "org/app"],
    [`ghcr.io/org/app@sha256:${"a".repeat(64)}`, "ghcr.io", "org/app", "ghcr.io/org/app"],
  ])("%s is %s + %s", (image, registry, repository, withoutTag) => {
    expect(parseImageReference(image)).toEqual({ registry, repository });
    expect(imageRepository(image)).toBe(withoutTag);
  });
});
