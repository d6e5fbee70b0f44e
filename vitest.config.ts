import { defineConfig } from "vitest/config";

const integrationFiles = ["**/*.int.test.ts"];
const exclude = ["node_modules/**", "dist/**"];

export default defineConfig({
  test: {
    reporters: ["default"],
    projects: [
      {
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: [...exclude, ...integrationFiles],
        },
      },
      {
        test: {
          name: "integration",
          include: integrationFiles,
          exclude,
          globalSetup: ["test-e2e/support/global-setup.ts"],
          // The testbed is one shared set of processes; files run one at a time so that tests which
          // restart a component (the apiserver, Kafka) do not pull it from under another file.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
