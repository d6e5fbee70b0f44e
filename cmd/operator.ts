/**
 * The `operator` entry point: `node cmd/operator.ts [--kubeconfig FILE] [--config FILE]`, against a
 * kubeconfig (the testbed: $DARWIN_RUN/kubeconfig) or in a cluster with its service account. Only wiring:
 * the runtime (operator/) runs Darwin's controllers and the admission webhooks with Darwin's configuration.
 */
import { GROUP } from "../crds/src/index.ts";
import { runOperator } from "../operator/run.ts";
import { webhookComponent } from "../webhooks/component.ts";
import { darwinConfig } from "./config.ts";
import { darwinControllers } from "./controllers.ts";

await runOperator({
  argv: process.argv.slice(2),
  config: darwinConfig,
  finalizerPrefix: GROUP,
  controllers: darwinControllers,
  components: [webhookComponent],
}).catch((err: unknown) => {
  process.stderr.write(
    `operator failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
