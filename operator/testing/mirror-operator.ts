/**
 * An operator process running only the test mirror controller: what the leader-election tests spawn
 * (twice) to have real separate processes going through run.ts like cmd/operator.ts does.
 */
import { runOperator } from "../run.ts";
import { createMirrorController } from "./mirror-controller.ts";
import { FINALIZER_PREFIX } from "./testbed.ts";

await runOperator({
  argv: process.argv.slice(2),
  finalizerPrefix: FINALIZER_PREFIX,
  controllers: () => [createMirrorController()],
});
