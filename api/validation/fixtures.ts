/** Sample resources and lookups shared by the validation tests. */
import { API_VERSION } from "../../crds/src/index.ts";
import type { ValidationContext } from "./context.ts";
import { lookupsFrom, type RuntimeRecord, type ServeEnvironmentRecord } from "./context.ts";

export function resource(kind: string, spec: unknown, metadata: Record<string, unknown> = {}) {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { name: "sample", namespace: "team-a", ...metadata },
    spec,
  };
}

export const cpuRuntime: RuntimeRecord = {
  name: "ray2.37.0-py310-cpu",
  spec: {
    displayName: "Ray2.37.0-Py310-CPU",
    rayVersion: "2.37.0",
    pythonVersion: "3.10",
    image: "rayproject/ray:2.37.0-py310",
    gpu: false,
    deprecated: false,
  },
};

export const gpuRuntime: RuntimeRecord = {
  name: "ray2.37.0-py310-gpu",
  spec: {
    ...cpuRuntime.spec,
    displayName: "Ray2.37.0-Py310-GPU",
    image: "rayproject/ray:2.37.0-py310-gpu",
    gpu: true,
  },
};

export const oldRuntime: RuntimeRecord = {
  name: "ray2.9.0-py39-cpu",
  spec: {
    displayName: "Ray2.9.0-Py39-CPU",
    rayVersion: "2.9.0",
    pythonVersion: "3.9",
    image: "rayproject/ray:2.9.0-py39",
    gpu: false,
    deprecated: true,
  },
};

export const localEnvironment: ServeEnvironmentRecord = {
  name: "local",
  spec: {
    domainSuffix: ".local",
    namespace: "serve",
    defaultCapacity: "on-demand",
    defaultResources: { cores: 1, memory: "2Gi" },
  },
};

export const context: ValidationContext = {
  lookups: lookupsFrom({
    runtimes: [cpuRuntime, gpuRuntime, oldRuntime],
    serveEnvironments: [localEnvironment],
  }),
};
