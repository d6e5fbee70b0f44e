/** Kafka clients on the testbed's broker, as the tests use them: string values, a short fetch wait. */
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { kafkaEndpoint } from "./env.ts";

export const kafkaAdmin = (clientId: string) =>
  new Admin({ clientId, bootstrapBrokers: kafkaEndpoint().brokers });

export const kafkaProducer = (clientId: string) =>
  new Producer({ clientId, bootstrapBrokers: kafkaEndpoint().brokers, serializers: stringSerializers });

export const kafkaConsumer = (clientId: string, groupId: string) =>
  new Consumer({
    clientId,
    groupId,
    bootstrapBrokers: kafkaEndpoint().brokers,
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  });
