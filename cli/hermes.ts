#!/usr/bin/env node
/** The `hermes` command (npm bin). */
import { runHermes } from "./program.ts";

process.exitCode = await runHermes(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
});
