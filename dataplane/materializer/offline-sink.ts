/**
 * The offline store's side of the materializer: every accepted row is buffered in an `OfflineStoreWriter`
 * and written as Parquet to S3 (dataplane/offline-store/) when the buffer reaches `maxRows` rows or its
 * oldest row has waited `maxAgeMs`, and when the materializer stops. The materializer commits a batch's
 * offsets only after a `flush` that covers it resolved (see sink.ts), so Kafka redelivers whatever was not
 * written yet after a crash, and a row acknowledged by a push reaches the offline store as surely as the
 * online one.
 *
 * A row records which features it sets (`set`): a pushed row may carry only some of them, and a training
 * set must take each feature's value from the latest row that set it, as the online store does.
 */
import type { ServedVersion } from "../feature-server/groups.ts";
import type { OfflineRow, OfflineStoreWriter } from "../offline-store/writer.ts";
import type { FeatureRow } from "../shared/feature-row.ts";
import type { RowSink } from "./sink.ts";

export interface OfflineSinkOptions {
  /** A writer that never writes by itself (maxRows and maxAgeMs unbounded): this sink decides when. */
  writer: OfflineStoreWriter;
  /** Buffered rows (all groups) that make a flush due. */
  maxRows: number;
  /** Age of the oldest buffered row that makes a flush due, in ms. */
  maxAgeMs: number;
  /** Now, in ms. @default Date.now */
  now?: () => number;
}

/** A materialized row as the offline writer takes it: values by column name, and the features it sets. */
export function offlineRow(group: ServedVersion, row: FeatureRow): OfflineRow {
  const values: Record<string, unknown> = {};
  group.entities.forEach((entity, i) => {
    values[entity.name] = row.keys[i];
  });
  for (const { column, value } of row.features) values[column.name] = value;
  const set =
    row.features.length === group.features.length ? undefined : row.features.map((f) => f.column.name);
  return { values, eventMicros: row.eventTimeMicros, ...(set && { set }) };
}

export class OfflineStoreSink implements RowSink {
  readonly name = "offline-store";
  readonly store = "offline";
  private readonly options: OfflineSinkOptions;
  private readonly now: () => number;
  private buffered = 0;
  private since = 0;

  constructor(options: OfflineSinkOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
  }

  async write(group: ServedVersion, rows: readonly FeatureRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.options.writer.append(
      {
        namespace: group.namespace,
        group: group.name,
        version: group.version,
        entities: group.entities,
        features: group.features,
      },
      rows.map((row) => offlineRow(group, row)),
    );
    if (this.buffered === 0) this.since = this.now();
    this.buffered += rows.length;
  }

  flushDue(): boolean {
    return (
      this.buffered > 0 &&
      (this.buffered >= this.options.maxRows || this.now() - this.since >= this.options.maxAgeMs)
    );
  }

  async flush(): Promise<void> {
    // Whatever happens, the buffer is gone: the writer drops what it tried to write (see Materializer).
    this.buffered = 0;
    await this.options.writer.flush();
  }

  async close(): Promise<void> {
    this.buffered = 0;
    await this.options.writer.close();
  }
}
