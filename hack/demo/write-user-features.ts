/**
 * Writes three users' features into the user-features group's version 1 table, as the materializer does:
 * the event time is the row's event_time and the write timestamp of every value.
 * `node hack/demo/write-user-features.ts <namespace>`, with the testbed's env (DARWIN_CASSANDRA_CONTACT).
 */
import { keyspaceName, tableName } from "../../controllers/feature-group/names.ts";
import { cassandraClient } from "../../controllers/feature-group/stores.ts";
import { loadFeatureServerConfig } from "../../dataplane/feature-server/config.ts";

const namespace = process.argv[2] ?? "darwin-demo";
const client = cassandraClient(loadFeatureServerConfig().cassandra);
const rows: Array<[bigint, number, number, number, number]> = [
  // user_id, age, tenure (months), activity_score, minutes ago
  [123n, 59, 7.575, 0.75088, 15],
  [456n, 52, 4.325, 0.014841, 5],
  [789n, 31, 18.505, 0.269554, 1],
];
const cql = `INSERT INTO "${keyspaceName(namespace)}"."${tableName("user-features", 1)}" (user_id, age, tenure, activity_score, event_time) VALUES (?, ?, ?, ?, ?) USING TIMESTAMP ?`;
try {
  for (const [id, age, tenure, score, minutesAgo] of rows) {
    const eventTime = new Date(Date.now() - minutesAgo * 60_000);
    await client.execute(cql, [id, age, tenure, score, eventTime, BigInt(eventTime.getTime()) * 1000n], {
      prepare: true,
    });
    process.stdout.write(
      `  user_id ${id}: age ${age}, tenure ${tenure}, activity_score ${score} at ${eventTime.toISOString()}\n`,
    );
  }
} finally {
  await client.shutdown();
}
