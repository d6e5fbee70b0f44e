/**
 * A whole Chronos on the testbed for a test file: its own database and topic, the processor (watching one
 * namespace's rules) and the API listening on a free port.
 */
import { Registry } from "prom-client";
import { KubeAuth, listenService, type Service } from "../../operator/http/index.ts";
import type { KubeClient } from "../../operator/kube-client.ts";
import { testLogger } from "../../operator/testing/testbed.ts";
import { kafkaEndpoint } from "../../test-e2e/testbed/env.ts";
import { uniqueName } from "../../test-e2e/testbed/testbed-cli.ts";
import { EventPublisher, ensureTopics } from "../chronos/kafka.ts";
import { CHRONOS_MIGRATIONS } from "../chronos/migrations.ts";
import { ChronosProcessor } from "../chronos/processor.ts";
import { buildChronosService } from "../chronos/service.ts";
import { migrate } from "../shared/mysql.ts";
import { createTestDatabase, type TestDatabase } from "./testbed.ts";

export interface TestChronos {
  db: TestDatabase;
  topic: string;
  processor: ChronosProcessor;
  app: Service;
  /** http://127.0.0.1:<port> */
  url: string;
  stop(): Promise<void>;
}

/**
 * `client` is the identity of both the API (its TokenReviews and SubjectAccessReviews) and the processor
 * (its watch and status writes), unless `clients` gives one of them its own.
 */
export async function startChronos(
  client: KubeClient,
  namespace: string,
  clients: { api?: KubeClient; processor?: KubeClient } = {},
): Promise<TestChronos> {
  const db = await createTestDatabase("chronos_it");
  await migrate(db.pool, "chronos", CHRONOS_MIGRATIONS);
  const topic = uniqueName("chronos-it");
  const kafka = {
    brokers: kafkaEndpoint().brokers,
    clientId: "chronos-it",
    topic,
    partitions: 2,
    sendTimeoutMs: 3_000,
  };
  await ensureTopics(kafka);
  const publisher = new EventPublisher(kafka);
  const processor = new ChronosProcessor({
    brokers: kafka.brokers,
    topic,
    groupId: `${topic}-processor`,
    pool: db.pool,
    client: clients.processor ?? client,
    log: testLogger(),
    systemNamespace: `${namespace}-system`,
    statusIntervalMs: 500,
    watchNamespace: namespace,
  });
  await processor.start();
  const app = await buildChronosService({
    pool: db.pool,
    publisher,
    auth: new KubeAuth({ client: clients.api ?? client }),
    logger: testLogger(),
    registry: new Registry(),
  });
  const port = await listenService(app, 0, "127.0.0.1");
  return {
    db,
    topic,
    processor,
    app,
    url: `http://127.0.0.1:${port}`,
    stop: async () => {
      await processor.stop();
      await publisher.close();
      await app.close();
      await db.drop();
    },
  };
}
