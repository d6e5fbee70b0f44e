/**
 * The sample Parquet file of the seed's user_features group (user_id, age, tenure, activity_score,
 * event_time): `rows` rows over rows/4 users, four events per user in the six hours before `now`, in
 * shuffled order (so the load's last-event-wins matters), from a seeded generator (the same file every
 * time for the same arguments). The demo and the integration tests make it rather than commit a binary:
 *
 *   node dataplane/populator/sample-data.ts user-features.parquet 10000
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ident, literal, openDuckDb } from "../offline-store/duckdb.ts";

export interface SampleRow {
  user_id: bigint;
  age: number;
  tenure: number;
  activity_score: number;
  /** Microseconds since the epoch. */
  eventMicros: bigint;
}

/** A small seeded generator (mulberry32): the same numbers for the same seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function sampleRows(rows: number, now: Date, seed = 1): SampleRow[] {
  const random = seeded(seed);
  const users = Math.max(1, Math.floor(rows / 4));
  const end = BigInt(now.getTime()) * 1000n;
  const out: SampleRow[] = [];
  for (let i = 0; i < rows; i++) {
    const user = (i % users) + 1;
    // Distinct times per user: event k of a user lies in the k-th 90-minute slot of the six hours.
    const slot = Math.floor(i / users) % 4;
    const offset = BigInt(Math.floor((slot + random()) * 90 * 60 * 1e6));
    out.push({
      user_id: BigInt(user),
      age: 18 + Math.floor(random() * 60),
      tenure: Math.round(random() * 12_000) / 100,
      activity_score: Math.round(random() * 1e6) / 1e6,
      eventMicros: end - 6n * 3600n * 1_000_000n + offset,
    });
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as SampleRow, out[i] as SampleRow];
  }
  return out;
}

/**
 * Writes rows to a Parquet file with the group's types (BIGINT, INTEGER, DOUBLE, DOUBLE, TIMESTAMP);
 * `rename` renames columns (a file that does not fit the group, for tests).
 */
export async function writeSampleParquet(
  path: string,
  rows: readonly SampleRow[],
  rename: Record<string, string> = {},
): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "darwin-sample-"));
  const duckdb = await openDuckDb();
  try {
    const input = join(dir, "rows.ndjson");
    await writeFile(
      input,
      `${rows
        .map((r) =>
          JSON.stringify({
            user_id: String(r.user_id),
            age: r.age,
            tenure: r.tenure,
            activity_score: r.activity_score,
            event_time: Number(r.eventMicros),
          }),
        )
        .join("\n")}\n`,
    );
    const as = (name: string) => ident(rename[name] ?? name);
    await duckdb.connection.run(
      `COPY (SELECT CAST(user_id AS BIGINT) AS ${as("user_id")}, age AS ${as("age")}, tenure AS ${as("tenure")}, activity_score AS ${as("activity_score")}, make_timestamp(event_time) AS ${as("event_time")} FROM read_json(${literal(input)}, format = 'newline_delimited', columns = {user_id: 'VARCHAR', age: 'INTEGER', tenure: 'DOUBLE', activity_score: 'DOUBLE', event_time: 'BIGINT'})) TO ${literal(path)} (FORMAT parquet)`,
    );
  } finally {
    duckdb.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.filename === resolve(process.argv[1] ?? "")) {
  const [path, count = "10000"] = process.argv.slice(2);
  if (!path) {
    process.stderr.write("usage: node dataplane/populator/sample-data.ts <out.parquet> [rows]\n");
    process.exit(2);
  }
  await writeSampleParquet(path, sampleRows(Number(count), new Date()));
  process.stdout.write(`wrote ${count} rows to ${path}\n`);
}
