/**
 * Kafka's own producer benchmark (`org.apache.kafka.tools.ProducerPerformance`, what
 * `kafka-producer-perf-test.sh` runs) with acks=all and idempotence, for comparing an HTTP ingest path with
 * the broker's best case in the same run. The broker's jars do not include the tool: `hack/kafka-tools`
 * resolves `org.apache.kafka:kafka-tools` of the same version into a cache directory of its own.
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(import.meta.dirname, "..", "..");

/** Records of `recordSize` bytes to `topic`; its records/s and its summary line. */
export function kafkaPerfTest(
  brokers: string,
  topic: string,
  records: number,
  recordSize: number,
): { recordsPerSecond: number; line: string } {
  const libs = execFileSync(join(REPO, "hack", "kafka-tools"), { encoding: "utf8" }).trim();
  const out = execFileSync(
    "java",
    [
      "-Xmx256m",
      "-cp",
      `${libs}/*`,
      "org.apache.kafka.tools.ProducerPerformance",
      "--topic",
      topic,
      "--num-records",
      String(records),
      "--record-size",
      String(recordSize),
      "--throughput",
      "-1",
      "--producer-props",
      `bootstrap.servers=${brokers}`,
      "acks=all",
      "enable.idempotence=true",
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const line = out.trim().split("\n").at(-1) ?? "";
  const match = /([\d.]+) records\/sec/.exec(line);
  return { recordsPerSecond: Number(match?.[1] ?? Number.NaN), line };
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
