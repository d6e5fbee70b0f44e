/** Structured JSON logs (pino): one object per line, messages in the past tense, objects named by fields. */
import { type Logger, pino } from "pino";

export type LogLevel = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";

export function createLogger(level: LogLevel = "info", base: Record<string, unknown> = {}): Logger {
  // Synchronous writes: a process that exits right after logging (SIGTERM, lost leadership) keeps its lines.
  return pino(
    { level, base: { component: "darwin-operator", ...base }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that drops everything, for tests. */
export const silentLogger = (): Logger => pino({ level: "silent" });
