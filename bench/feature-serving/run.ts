/**
 * Feature serving benchmark: `node bench/feature-serving/run.ts [--entities N] [--seconds S]` on the
 * testbed (control and data tiers up). It prints figures and asserts nothing.
 *
 * 1. Creates a namespace and the sample group (user-features) through the FeatureGroup controller, and
 *    writes N entities (default 100,000) straight into its table.
 * 2. Starts the feature server as its own process (cmd/feature-server.ts), as it runs in production.
 * 3. For 1-key and 100-key fetches on both routes, sends requests at constant arrival rates (an open
 *    loop: each request leaves at its scheduled time whether or not earlier ones came back, and its
 *    latency counts from that time, so a slow server cannot hide its queue) and prints p50, p99, p99.9.
 * 4. In the same run, the same reads with the bare cassandra-driver (prepared statement per key,
 *    concurrently; and one `IN` query for 100 keys) at the same rates: the server's overhead as a ratio.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { cpus, freemem, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { keyspaceName, tableName } from "../../controllers/feature-group/names.ts";
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { createObject, REPO, testbedClient, waitFor } from "../../operator/testing/testbed.ts";
import {
  adminToken,
  dropTestStores,
  ensureOwnCrd,
  sampleFeatureGroup,
  startFeatureGroupOperator,
  testCassandra,
  waitForReady,
} from "../../test-e2e/support/feature-store.ts";
import { createNamespace } from "../../test-e2e/support/fixture.ts";

const { values: args } = parseArgs({
  options: { entities: { type: "string", default: "100000" }, seconds: { type: "string", default: "4" } },
});
const ENTITIES = Number(args.entities);
const SECONDS = Number(args.seconds);
const RATES_1 = [250, 500, 1000, 2000];
const RATES_100 = [25, 50, 100, 200];

/** The first failed answer of each kind, printed with the table (a benchmark that errs says why). */
const failures = new Map<string, string>();

interface Result {
  what: string;
  rate: number;
  sent: number;
  errors: number;
  achieved: number;
  p50: number;
  p99: number;
  p999: number;
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0
    ? Number.NaN
    : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number);

/** Open-loop load: `call` is started at rate/s for SECONDS; latency from each scheduled start. */
async function constantRate(
  what: string,
  rate: number,
  call: (i: number) => Promise<boolean>,
): Promise<Result> {
  const total = Math.round(rate * SECONDS);
  const latencies: number[] = [];
  let errors = 0;
  const pending: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait - 0.5));
    while (performance.now() < due) {
      // spin the last half millisecond: setTimeout alone is too coarse for 2,000 req/s
    }
    pending.push(
      call(i).then(
        (ok) => {
          if (!ok) errors++;
          latencies.push(performance.now() - due);
        },
        () => {
          errors++;
          latencies.push(performance.now() - due);
        },
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    what,
    rate,
    sent: total,
    errors,
    achieved: Math.round(total / elapsed),
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    p999: quantile(latencies, 0.999),
  };
}

function machine(): string {
  let components = "";
  try {
    components = execFileSync(join(REPO, "hack", "testbed"), ["status"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => / ready /.test(l))
      .map((l) => l.split(/\s+/)[0])
      .join(", ");
  } catch {
    components = "(hack/testbed status failed)";
  }
  const cpu = cpus();
  return [
    `machine: ${cpu.length} cores (${cpu[0]?.model ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB (${(freemem() / 2 ** 30).toFixed(1)} free), load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    `running on it: ${components}; the load generator, the feature server and Cassandra share the cores`,
    `node ${process.version}; ${ENTITIES} entities; ${SECONDS} s per rate`,
  ].join("\n");
}

async function main(): Promise<void> {
  const client = testbedClient("darwin-bench");
  const namespace = await createNamespace(client, "bench-fs");
  const operator = await startFeatureGroupOperator(namespace);
  const cassandra = testCassandra();
  const servers: ChildProcess[] = [];
  try {
    await createObject(client, FEATURE_GROUPS, sampleFeatureGroup(namespace, { ttlSeconds: 0 }));
    await waitForReady(client, namespace, "user-features");
    const keyspace = keyspaceName(namespace);
    const table = tableName("user-features", 1);

    const loadStart = performance.now();
    const insert = `INSERT INTO "${keyspace}"."${table}" (user_id, age, tenure, activity_score, event_time) VALUES (?, ?, ?, ?, ?)`;
    const now = new Date();
    for (let base = 0; base < ENTITIES; base += 256) {
      await Promise.all(
        Array.from({ length: Math.min(256, ENTITIES - base) }, (_, j) => {
          const id = base + j;
          return cassandra.execute(
            insert,
            [BigInt(id), 18 + (id % 60), (id % 1000) / 10, (id % 997) / 997, now],
            {
              prepare: true,
            },
          );
        }),
      );
    }
    process.stdout.write(
      `loaded ${ENTITIES} entities in ${((performance.now() - loadStart) / 1000).toFixed(1)} s\n`,
    );

    const token = adminToken();
    const headers = {
      "content-type": "application/json",
      authorization: `Bearer ${token}`,
      "x-darwin-namespace": namespace,
    };
    const serve = async (pattern: string) => {
      const started = startServer(pattern);
      servers.push(started.child);
      const url = `http://127.0.0.1:${await started.port}`;
      await waitFor("the feature server to be ready", async () => (await fetch(`${url}/readyz`)).ok, {
        timeoutMs: 30_000,
      });
      return url;
    };
    const perKeyServer = await serve("per-key");
    const inServer = await serve("in");

    const keys = (i: number, n: number) =>
      Array.from({ length: n }, (_, j) => ((i * 7919 + j * 104729) % ENTITIES) as number);
    const seedBody = (i: number, n: number) =>
      JSON.stringify({
        feature_group_name: "user_features",
        feature_columns: ["age", "tenure", "activity_score"],
        primary_key_names: ["user_id"],
        primary_key_values: keys(i, n).map((k) => [k]),
      });
    const feastBody = (i: number, n: number) =>
      JSON.stringify({
        features: ["user_features:age", "user_features:tenure", "user_features:activity_score"],
        entities: { user_id: keys(i, n) },
      });
    const http =
      (path: string, body: (i: number) => string, base = perKeyServer) =>
      async (i: number) => {
        const response = await fetch(`${base}${path}`, { method: "POST", headers, body: body(i) });
        const text = await response.text();
        if (!response.ok && !failures.has(path))
          failures.set(path, `${response.status} ${text.slice(0, 200)}`);
        return response.ok;
      };
    const select = `SELECT age, WRITETIME(age), tenure, WRITETIME(tenure), activity_score, WRITETIME(activity_score) FROM "${keyspace}"."${table}" WHERE user_id = ?`;
    const selectIn = `SELECT user_id, age, WRITETIME(age), tenure, WRITETIME(tenure), activity_score, WRITETIME(activity_score) FROM "${keyspace}"."${table}" WHERE user_id IN ?`;
    const bare = (n: number) => async (i: number) => {
      await Promise.all(keys(i, n).map((k) => cassandra.execute(select, [BigInt(k)], { prepare: true })));
      return true;
    };
    const bareIn = (n: number) => async (i: number) => {
      await cassandra.execute(selectIn, [keys(i, n).map(BigInt)], { prepare: true });
      return true;
    };

    // Warm-up: prepared statements, connections, JIT.
    for (const f of [
      http("/feature-store/v1/features:fetch", (i) => seedBody(i, 10)),
      http("/feature-store/v1/features:fetch", (i) => seedBody(i, 10), inServer),
      bare(10),
      bareIn(10),
    ])
      await constantRate("warm-up", 200, f);

    const results: Result[] = [];
    for (const [n, rates] of [
      [1, RATES_1],
      [100, RATES_100],
    ] as const) {
      for (const rate of rates) {
        await ensureOwnCrd(client);
        results.push(await constantRate(`bare driver, ${n} key(s) per-key`, rate, bare(n)));
        if (n > 1) results.push(await constantRate(`bare driver, ${n} keys IN`, rate, bareIn(n)));
        results.push(
          await constantRate(
            `fetch_features, ${n} key(s)`,
            rate,
            http("/feature-store/v1/features:fetch", (i) => seedBody(i, n)),
          ),
        );
        results.push(
          await constantRate(
            `get-online-features, ${n} key(s)`,
            rate,
            http("/get-online-features", (i) => feastBody(i, n)),
          ),
        );
        if (n > 1) {
          results.push(
            await constantRate(
              `fetch_features, ${n} keys, server reading with IN`,
              rate,
              http("/feature-store/v1/features:fetch", (i) => seedBody(i, n), inServer),
            ),
          );
        }
      }
    }
    report(results);
    for (const [path, failure] of failures) process.stdout.write(`first failure of ${path}: ${failure}\n`);
  } finally {
    for (const server of servers) server.kill("SIGTERM");
    await cassandra.shutdown();
    await operator.stop();
    await dropTestStores(namespace);
    client.close();
  }
}

function startServer(pattern: string): { child: ChildProcess; port: Promise<number> } {
  const child = spawn(join(REPO, "node_modules", ".bin", "node"), [join(REPO, "cmd", "feature-server.ts")], {
    env: {
      ...process.env,
      DARWIN_FEATURE_SERVER_PORT: "0",
      DARWIN_FEATURE_SERVER_HOST: "127.0.0.1",
      DARWIN_FEATURE_SERVER_MAX_KEYS: "1000",
      DARWIN_FEATURE_SERVER_READ_PATTERN: pattern,
      DARWIN_LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const port = new Promise<number>((resolve, reject) => {
    let buffer = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffer += chunk.toString();
      const match = /"port":(\d+)[^\n]*Started feature server/.exec(buffer);
      if (match) resolve(Number(match[1]));
    });
    child.on("exit", (code) => reject(new Error(`feature server exited with ${code}`)));
  });
  return { child, port };
}

/** The bare-driver run a server run is compared with: same number of keys, same read pattern, same rate. */
function bareOf(results: Result[], r: Result): Result | undefined {
  const n = r.what.includes("100") ? 100 : 1;
  const what = r.what.includes("IN") ? `bare driver, ${n} keys IN` : `bare driver, ${n} key(s) per-key`;
  return results.find((b) => b.what === what && b.rate === r.rate);
}

function report(results: Result[]): void {
  const ms = (v: number) => (Number.isNaN(v) ? "-" : v.toFixed(2));
  process.stdout.write(`\n${machine()}\n\n`);
  process.stdout.write(
    "| reads | rate/s | achieved/s | errors | p50 ms | p99 ms | p99.9 ms | overhead p50, p99 |\n|---|---|---|---|---|---|---|---|\n",
  );
  for (const r of results) {
    const bare = r.what.startsWith("bare") ? undefined : bareOf(results, r);
    const ratio = bare ? `${(r.p50 / bare.p50).toFixed(2)}x, ${(r.p99 / bare.p99).toFixed(2)}x` : "";
    process.stdout.write(
      `| ${r.what} | ${r.rate} | ${r.achieved} | ${r.errors} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.p999)} | ${ratio} |\n`,
    );
  }
  process.stdout.write("\n| reads | highest rate tried with p99 < 10 ms and no errors |\n|---|---|\n");
  for (const kind of new Set(results.map((r) => r.what))) {
    const held = results.filter((r) => r.what === kind && r.p99 < 10 && r.errors === 0).at(-1);
    process.stdout.write(`| ${kind} | ${held ? held.rate : "none"} |\n`);
  }
}

await main();
process.exit(0);
