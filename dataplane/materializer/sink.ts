/**
 * Where materialized rows go. Every row the materializer accepts passes through `RowSink.write`, once per
 * batch and group version; a sink that throws makes the materializer retry the batch (so a sink must be
 * idempotent: a redelivered row may be written twice).
 *
 * A sink that writes on `write` (the online store, `CassandraSink`) has no `flush`: the batch's offsets are
 * committed once every sink's `write` resolved. A sink that buffers (the offline store, `OfflineStoreSink`,
 * which writes files by size or age) has `flushDue` and `flush`: the materializer keeps the offsets of the
 * batches it holds uncommitted until `flush` resolved, so a row is committed only once it is in every store.
 */
import type { ServedVersion } from "../feature-server/groups.ts";
import type { FeatureRow } from "../shared/feature-row.ts";

export interface RowSink {
  /** Names the sink in logs and metrics. */
  readonly name: string;
  /** online: skipped for groups kept offline only (spec.online.enabled false); offline: every group. */
  readonly store: "online" | "offline";
  /** Writes (or buffers, with `flush`) the rows of one version of a group. */
  write(group: ServedVersion, rows: readonly FeatureRow[]): Promise<void>;
  /** Whether the buffered rows should be written now (a size or age bound reached). */
  flushDue?(): boolean;
  /** Writes every buffered row; resolves once they are durable. A failure loses the buffer: see Materializer. */
  flush?(): Promise<void>;
  close(): Promise<void>;
}
