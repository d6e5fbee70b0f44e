/** An operator running as its own process (operator/testing/mirror-operator.ts), observed through its JSON logs. */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { REPO, waitFor } from "./testbed.ts";

export type LogLine = Record<string, unknown> & { msg?: string };

export class OperatorProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined;

  private constructor(child: ChildProcess) {
    this.child = child;
    if (!child.stdout) throw new Error("operator process started without a stdout pipe");
    createInterface({ input: child.stdout }).on("line", (line) => {
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        this.logs.push({ msg: line });
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => this.logs.push({ msg: chunk.toString(), stderr: true }));
    this.exited = new Promise((resolve) =>
      child.on("exit", (code) => {
        this.exitCode = code;
        resolve(code);
      }),
    );
  }

  /** Starts `node operator/testing/mirror-operator.ts --config <file>` with the testbed's kubeconfig. */
  static start(configFile: string): OperatorProcess {
    const child = spawn(
      process.execPath,
      [
        "operator/testing/mirror-operator.ts",
        "--config",
        configFile,
        "--kubeconfig",
        process.env.KUBECONFIG ?? "",
      ],
      {
        cwd: REPO,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, DARWIN_OPERATOR_CONFIG: undefined },
      },
    );
    return new OperatorProcess(child);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The first log line with this message (waits for it). */
  async waitForLog(msg: string, timeoutMs = 60_000): Promise<LogLine> {
    return waitFor(`log "${msg}" from pid ${this.pid}`, () => this.logs.find((l) => l.msg === msg), {
      timeoutMs,
      intervalMs: 50,
    });
  }

  hasLogged(msg: string): boolean {
    return this.logs.some((l) => l.msg === msg);
  }

  /** Its leader-election identity and HTTP port, from its startup log. */
  async endpoint(): Promise<{ identity: string; port: number }> {
    const line = await this.waitForLog("Started HTTP server (metrics, healthz, readyz)");
    return { identity: String(line.identity), port: Number(line.port) };
  }

  async metrics(): Promise<string> {
    const { port } = await this.endpoint();
    return (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  }

  kill(signal: NodeJS.Signals): void {
    if (this.exitCode === undefined) this.child.kill(signal);
  }

  /** Dumps the logs (for a failing test). */
  dump(): string {
    return this.logs.map((l) => JSON.stringify(l)).join("\n");
  }
}
