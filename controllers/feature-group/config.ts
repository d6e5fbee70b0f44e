/**
 * The operator configuration's `featureStore` section: where the FeatureGroup controller finds Cassandra
 * (values), Kafka (streams) and MySQL (schema history). Registered in cmd/config.ts with its environment
 * variables (DARWIN_CASSANDRA_CONTACT, DARWIN_CASSANDRA_DATACENTER, DARWIN_KAFKA_BROKERS, DARWIN_MYSQL_URL).
 */
import { z } from "zod";

export const featureStoreConfig = z
  .strictObject({
    cassandra: z
      .strictObject({
        contactPoints: z
          .array(z.string().min(1))
          .min(1)
          .default(["127.0.0.1:9042"])
          .describe("Cassandra contact points, host:port."),
        localDataCenter: z
          .string()
          .min(1)
          .default("datacenter1")
          .describe("Data center the driver prefers (and the one SimpleStrategy ignores)."),
        replication: z
          .union([
            z.strictObject({
              class: z.literal("SimpleStrategy"),
              replicationFactor: z.number().int().min(1).default(1),
            }),
            z.strictObject({
              class: z.literal("NetworkTopologyStrategy"),
              dataCenters: z
                .record(z.string().min(1), z.number().int().min(1))
                .refine((dcs) => Object.keys(dcs).length > 0, "name at least one data center")
                .describe("Replicas per data center, e.g. {dc1: 3, dc2: 3}."),
            }),
          ])
          .default({ class: "SimpleStrategy", replicationFactor: 1 })
          .describe("Replication of the keyspaces the operator creates (one per namespace)."),
        username: z.string().optional().describe("Cassandra user, when authentication is on."),
        password: z.string().optional().describe("Password of the Cassandra user."),
      })
      .prefault({}),
    kafka: z
      .strictObject({
        brokers: z
          .array(z.string().min(1))
          .min(1)
          .default(["127.0.0.1:9092"])
          .describe("Kafka bootstrap brokers, host:port."),
        replicationFactor: z
          .number()
          .int()
          .min(1)
          .default(1)
          .describe("Replication factor of the feature topics."),
      })
      .prefault({}),
    mysqlUrl: z
      .url({ protocol: /^mysql$/ })
      .default("mysql://root@127.0.0.1:3306/darwin")
      .describe("MySQL/MariaDB database holding the feature groups' schema history."),
  })
  .prefault({})
  .describe("Stores of the feature store: Cassandra (values), Kafka (streams), MySQL (schema history).");

export type FeatureStoreConfig = z.infer<typeof featureStoreConfig>;
