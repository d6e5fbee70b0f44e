/**
 * The write routes apart from HTTP: rows pushed in Darwin's shape (`features:push`) or Feast's (`/push`)
 * are checked against the group version's schema (a RequestError names the row and field), then produced
 * to the version's Kafka topic through the idempotent acks=all publisher; the call resolves only once
 * Kafka acknowledged every row. The materializer writes them to the online store from there.
 *
 * On the topic each row is a flat JSON object (dataplane/shared/feature-row.ts) with `event_time` written
 * as RFC 3339 with microseconds, keyed by its entity key values so one entity's rows share a partition.
 */
import { topicName } from "../../controllers/feature-group/names.ts";
import { EVENT_TIME_FIELD, formatEventTime, parseFeatureRow } from "../shared/feature-row.ts";
import { KafkaUnavailable, type OutgoingMessage } from "../shared/kafka.ts";
import type { FeastPushRequest, PushFeaturesRequest, PushFeaturesResponse } from "./api.ts";
import { type GroupRegistry, RequestError } from "./groups.ts";

/** Feast's event time columns, first found wins; `created` is Feast's write-time column, not a feature. */
const FEAST_TIME_COLUMNS = ["event_timestamp", EVENT_TIME_FIELD];
const FEAST_IGNORED_COLUMNS = ["created", "created_timestamp"];

export interface PushOptions {
  registry: GroupRegistry;
  publisher: { publish(messages: readonly OutgoingMessage[]): Promise<void> } | undefined;
  /** Most rows one request may push. */
  maxRows: number;
}

const bad = (code: string, message: string) => new RequestError(400, code, message);

export class FeaturePusher {
  private readonly options: PushOptions;

  constructor(options: PushOptions) {
    this.options = options;
  }

  async push(namespace: string, request: PushFeaturesRequest): Promise<PushFeaturesResponse> {
    return this.write(namespace, request.feature_group_name, request.version, request.rows, "rows");
  }

  /** Feast's push: the columns become rows, event_timestamp becomes event_time. */
  async feastPush(namespace: string, request: FeastPushRequest): Promise<PushFeaturesResponse> {
    if (request.to === "offline") {
      throw bad(
        "PUSH_MODE_UNSUPPORTED",
        'to: "offline" is not supported: push with "online" or "online_and_offline" (rows go through the group\'s topic)',
      );
    }
    const columns = Object.entries(request.df).filter(([name]) => !FEAST_IGNORED_COLUMNS.includes(name));
    const length = columns[0]?.[1].length ?? 0;
    for (const [name, values] of columns) {
      if (values.length !== length) {
        throw bad(
          "RAGGED_COLUMNS",
          `df.${name} has ${values.length} value(s) but df.${columns[0]?.[0]} has ${length}: every column needs one value per row`,
        );
      }
    }
    const timeColumn = FEAST_TIME_COLUMNS.find((c) => c in request.df);
    const rows = Array.from({ length }, (_, i) => {
      const row: Record<string, unknown> = {};
      for (const [name, values] of columns) row[name === timeColumn ? EVENT_TIME_FIELD : name] = values[i];
      return row;
    });
    if (rows.length === 0) throw bad("NO_ROWS", "df has no rows");
    return this.write(namespace, request.push_source_name, undefined, rows, "df row ");
  }

  private async write(
    namespace: string,
    groupName: string,
    version: number | undefined,
    rows: readonly unknown[],
    where: string,
  ): Promise<PushFeaturesResponse> {
    if (rows.length > this.options.maxRows) {
      throw bad(
        "TOO_MANY_ROWS",
        `${rows.length} rows; at most ${this.options.maxRows} per request: split the push`,
      );
    }
    const group = await this.options.registry.resolve(namespace, groupName, version, "any");
    const object = this.options.registry.find(namespace, groupName);
    const spec = object && this.options.registry.parsed(object).spec;
    if (!spec?.success || !spec.data.stream.enabled) {
      throw new RequestError(
        409,
        "STREAM_DISABLED",
        `feature group "${groupName}" has no topic to push to: set spec.stream.enabled: true on FeatureGroup ${group.name}`,
      );
    }
    const topic = topicName(namespace, group.name, group.version);
    const now = Date.now();
    const messages = rows.map((input, i): OutgoingMessage => {
      const at = where === "rows" ? `rows[${i}]` : `${where}${i}`;
      const parsed = parseFeatureRow(group, input, { at, now });
      if (!parsed.ok) throw bad("INVALID_ROW", parsed.problem);
      const row = input as Record<string, unknown>;
      const key = JSON.stringify(group.entities.map((e) => row[e.name]));
      // The row is this request's own (parsed from its body, or built from Feast's columns): its event time
      // is rewritten in place rather than copied with every other field.
      row[EVENT_TIME_FIELD] = formatEventTime(parsed.row.eventTimeMicros);
      return { topic, key, value: JSON.stringify(row) };
    });
    if (!this.options.publisher) {
      throw new RequestError(
        503,
        "PUSH_UNAVAILABLE",
        "this feature server has no Kafka brokers configured (DARWIN_KAFKA_BROKERS)",
        30,
      );
    }
    try {
      await this.options.publisher.publish(messages);
    } catch (error) {
      if (error instanceof KafkaUnavailable)
        throw new RequestError(503, "KAFKA_UNAVAILABLE", error.message, error.retryAfterSeconds);
      throw error;
    }
    return { feature_group_name: groupName, version: group.version, topic, rows: messages.length };
  }
}
