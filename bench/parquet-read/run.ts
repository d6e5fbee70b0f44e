/**
 * Which Parquet reader the populator uses: hyparquet (pure JavaScript) against DuckDB (@duckdb/node-api,
 * native), each reading the sample user_features file into JavaScript row objects, the form the
 * populator hands to the Cassandra driver. Prints median and p99 per reader and size; asserts nothing.
 *
 *   node bench/parquet-read/run.ts            # BENCH_ROWS=10000,100000,1000000 BENCH_RUNS=7
 */
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { asyncBufferFromFile, parquetReadObjects } from "hyparquet";
import { literal, openDuckDb } from "../../dataplane/offline-store/duckdb.ts";
import { sampleRows, writeSampleParquet } from "../../dataplane/populator/sample-data.ts";

const sizes = (process.env.BENCH_ROWS ?? "10000,100000,1000000").split(",").map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 7);

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
}

async function hyparquetRead(path: string): Promise<number> {
  const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path) });
  return rows.length;
}

async function duckdbRead(path: string): Promise<number> {
  const duckdb = await openDuckDb();
  try {
    const result = await duckdb.connection.stream(`SELECT * FROM read_parquet(${literal(path)})`);
    let n = 0;
    for await (const chunk of result.yieldRowObjectJs()) n += chunk.length;
    return n;
  } finally {
    duckdb.close();
  }
}

const readers: Array<[string, (path: string) => Promise<number>]> = [
  ["hyparquet", hyparquetRead],
  ["duckdb", duckdbRead],
];

const dir = await mkdtemp(join(tmpdir(), "bench-parquet-"));
try {
  console.log(
    `machine: ${cpus().length} x ${cpus()[0]?.model}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${runs} runs per case`,
  );
  for (const size of sizes) {
    const path = join(dir, `sample-${size}.parquet`);
    await writeSampleParquet(path, sampleRows(size, new Date()));
    for (const [name, read] of readers) {
      await read(path); // warm-up
      const times: number[] = [];
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        const n = await read(path);
        times.push(performance.now() - started);
        rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
        if (n !== size) throw new Error(`${name} read ${n} rows of ${size}`);
      }
      times.sort((a, b) => a - b);
      const median = quantile(times, 0.5);
      console.log(
        `${String(size).padStart(8)} rows  ${name.padEnd(10)} median ${median.toFixed(1).padStart(8)} ms  p99 ${quantile(times, 0.99).toFixed(1).padStart(8)} ms  ${Math.round(
          (size * 1000) / median,
        )
          .toLocaleString("en-US")
          .padStart(11)} rows/s  rss +${Math.round((rssPeak - rssBefore) / 2 ** 20)} MiB`,
      );
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
