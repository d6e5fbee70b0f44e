/**
 * An operator process running only the test mirror controller: what the leader-election tests spawn
 * (twice) to have real separate processes going through run.ts like operator/main.ts does.
 */
import { runOperator } from "../run.ts";
import { createMirrorController } from "./mirror-controller.ts";

await runOperator({ argv: process.argv.slice(2), controllers: () => [createMirrorController()] });
