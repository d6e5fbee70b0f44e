import { defineConfig } from "vitest/config";

const integrationFiles = ["**/*.int.test.ts"];
const exclude = ["node_modules/**", "dist/**"];
/**
 * The real-node suites (test-e2e/node, `// @testbed node`) need the node tier, which only the default testbed
 * runs (one real node per machine): in a testbed slot they are left out unless named on the command line.
 */
const nodeSuites = ["test-e2e/node/**"];
const namedOnCommandLine = process.argv.some((arg) => arg.includes("test-e2e/node"));
const integrationExclude =
  process.env.DARWIN_TESTBED_SLOT && !namedOnCommandLine ? [...exclude, ...nodeSuites] : exclude;

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
          exclude: integrationExclude,
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
