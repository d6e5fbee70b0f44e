/**
 * The `operator` entry point: `node operator/main.ts [--kubeconfig FILE] [--config FILE]`, against a
 * kubeconfig (the testbed: $DARWIN_RUN/kubeconfig) or in a cluster with its service account.
 */
import { darwinControllers } from "./controllers.ts";
import { runOperator } from "./run.ts";
import { startWebhooks } from "./webhooks.ts";

await runOperator({ argv: process.argv.slice(2), controllers: darwinControllers, startWebhooks }).catch(
  (err: unknown) => {
    process.stderr.write(
      `operator failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
