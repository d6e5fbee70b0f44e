/**
 * hermes's own settings, kept in ~/.hermes/config.json ($HERMES_HOME overrides the folder): which
 * kubeconfig and context to use, the default namespace (space) and environment, and the user token
 * ($HERMES_USER_TOKEN wins over the saved one).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";

export const HermesConfig = z.strictObject({
  kubeconfig: z.string().min(1).optional(),
  context: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  environment: z.string().min(1).optional(),
  token: z.string().min(1).optional(),
});
export type HermesConfig = z.infer<typeof HermesConfig>;

export const configDir = (env = process.env): string => env.HERMES_HOME ?? join(homedir(), ".hermes");
const configFile = (env = process.env) => join(configDir(env), "config.json");

export function readConfig(env = process.env): HermesConfig {
  let text: string;
  try {
    text = readFileSync(configFile(env), "utf8");
  } catch {
    return {};
  }
  const parsed = HermesConfig.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(
      `${configFile(env)} is not a valid hermes configuration (${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}); run hermes configure again`,
    );
  }
  return parsed.data;
}

/** Saves the configuration (the token readable by the user only); returns the file written. */
export function writeConfig(config: HermesConfig, env = process.env): string {
  mkdirSync(configDir(env), { recursive: true, mode: 0o700 });
  writeFileSync(configFile(env), `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return configFile(env);
}
