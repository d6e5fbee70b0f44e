/** The machine a benchmark ran on, and how busy it was: CPUs, memory, load averages, Node version. */
import os from "node:os";

export function machine(): string {
  const cpus = os.cpus();
  const [l1, l5] = os.loadavg();
  return `${cpus.length} x ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB (${Math.round(os.freemem() / 2 ** 30)} GiB free), load ${l1?.toFixed(2)} / ${l5?.toFixed(2)} (1/5 min), Node ${process.version}`;
}
