/**
 * Where the offline store keeps a group's rows: Parquet files under
 *   <root>/tenant=<namespace>/group=<group>/version=<version>/date=<YYYY-MM-DD>/part-<first event µs>-<id>.parquet
 * (Hive-style partition names, so engines that know the convention read the partitions as columns). The
 * date is the UTC date of the rows' event times; one file holds one flush of one partition. Pure.
 */
import type { S3Location } from "./s3.ts";

export interface PartitionId {
  namespace: string;
  /** The FeatureGroup's Kubernetes name. */
  group: string;
  version: number;
}

const join = (...parts: string[]) => parts.filter((p) => p !== "").join("/");

/** The prefix of every file of one version of a group. */
export function versionPrefix(root: S3Location, id: PartitionId): S3Location {
  const base = root.key.replace(/\/+$/, "");
  return {
    bucket: root.bucket,
    key: `${join(base, `tenant=${id.namespace}`, `group=${id.group}`, `version=${id.version}`)}/`,
  };
}

/** The UTC date (YYYY-MM-DD) of an event time in microseconds since the epoch. */
export function eventDate(eventMicros: bigint): string {
  return new Date(Number(eventMicros / 1000n)).toISOString().slice(0, 10);
}

/** The key of a new file of one date partition. */
export function fileLocation(
  root: S3Location,
  id: PartitionId,
  date: string,
  firstEventMicros: bigint,
  unique: string,
): S3Location {
  const prefix = versionPrefix(root, id);
  return { bucket: root.bucket, key: `${prefix.key}date=${date}/part-${firstEventMicros}-${unique}.parquet` };
}
