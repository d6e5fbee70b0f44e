/**
 * Where materialized rows go. Every row the materializer accepts passes through `RowSink.write`, once per
 * batch and group version, before the offsets covering it are committed; a sink that throws makes the
 * materializer retry the batch (so a sink must be idempotent: a redelivered row may be written twice).
 * Today there is one sink, the online store (`CassandraSink`); another store that must see every
 * materialized row (an offline copy) is one more sink in the list the materializer is given.
 */
import type { ServedVersion } from "../feature-server/groups.ts";
import type { FeatureRow } from "../shared/feature-row.ts";

export interface RowSink {
  /** Names the sink in logs and metrics. */
  readonly name: string;
  /** Writes the rows of one version of a group; resolves once they are durable. */
  write(group: ServedVersion, rows: readonly FeatureRow[]): Promise<void>;
  close(): Promise<void>;
}
