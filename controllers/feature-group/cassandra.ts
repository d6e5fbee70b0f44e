/**
 * The Cassandra client of everything that reads or writes feature tables (the FeatureGroup controller, the
 * feature server, the materializer, the loader), in a module of its own so they do not load the Kafka and
 * MySQL clients of stores.ts with it.
 */
import { auth, Client as CassandraClient, policies } from "cassandra-driver";
import type { FeatureStoreConfig } from "./config.ts";

/** A Cassandra client that reconnects within seconds of the cluster coming back. */
export function cassandraClient(config: FeatureStoreConfig["cassandra"], keyspace?: string): CassandraClient {
  return new CassandraClient({
    contactPoints: config.contactPoints,
    localDataCenter: config.localDataCenter,
    ...(keyspace ? { keyspace } : {}),
    ...(config.username
      ? { authProvider: new auth.PlainTextAuthProvider(config.username, config.password ?? "") }
      : {}),
    // int64 values and write times as JavaScript bigint, exact beyond 2^53.
    encoding: { useBigIntAsLong: true },
    policies: { reconnection: new policies.reconnection.ExponentialReconnectionPolicy(250, 4000, false) },
    socketOptions: { connectTimeout: 5000, readTimeout: 10_000 },
  });
}
