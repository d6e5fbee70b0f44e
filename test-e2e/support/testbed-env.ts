/** Reads the testbed's env file ($DARWIN_RUN/testbed.env): every endpoint of what is up. */
import { existsSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** $DARWIN_RUN, else the run directory hack/testbed uses: the default one, or a slot's (hack/lib/common.sh). */
export const testbedRunDir = (): string => {
  if (process.env.DARWIN_RUN) return process.env.DARWIN_RUN;
  const slot = process.env.DARWIN_TESTBED_SLOT;
  return join(process.env.TMPDIR ?? tmpdir(), slot ? `darwin-testbed-slot${slot}` : "darwin-testbed");
};

export function loadTestbedEnv(file = join(testbedRunDir(), "testbed.env")): Record<string, string> {
  if (!existsSync(file)) return {};
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (match?.[1]) env[match[1]] = match[2] ?? "";
  }
  return env;
}

/** An endpoint the test needs; a clear error when the testbed tier that provides it is not up. */
export function requireEnv(name: string): string {
  const value = process.env[name] ?? loadTestbedEnv()[name];
  if (!value) {
    throw new Error(
      `${name} is not set: start the testbed tier that provides it (hack/testbed up <tier>) or add "// @testbed <tier>" to the test file`,
    );
  }
  return value;
}
