/**
 * One load as `hermes features load` (and a Kubernetes Job running that command) performs it: find the
 * group version among the namespace's FeatureGroups, fetch an s3:// file to a temporary file, load it
 * into Cassandra and the offline store, report progress.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cassandraClient } from "../../controllers/feature-group/cassandra.ts";
import type { FeatureStoreConfig } from "../../controllers/feature-group/stores.ts";
import type { KubeObject } from "../../operator/resource.ts";
import { cassandraTableColumns, GroupRegistry } from "../feature-server/groups.ts";
import { downloadObject, parseS3Uri, type S3Config, s3Client } from "../offline-store/s3.ts";
import { OfflineStoreWriter } from "../offline-store/writer.ts";
import { type LoadResult, loadParquet } from "./load.ts";
import type { Progress } from "./progress.ts";

export interface PopulateOptions {
  namespace: string;
  /** The FeatureGroups of the namespace. */
  featureGroups: KubeObject[];
  /** Kubernetes or SDK name of the group. */
  group: string;
  /** The group's spec.version when absent. */
  version?: number;
  /** A local path or s3://bucket/key. */
  file: string;
  eventTimeColumn?: string;
  cassandra: FeatureStoreConfig["cassandra"];
  s3: S3Config;
  /** s3://bucket/prefix of the offline store; none: the online table only. */
  offlineStoreUri?: string;
  onProgress?: (progress: Progress) => void;
}

export interface PopulateResult extends LoadResult {
  keyspace: string;
  table: string;
  version: number;
  offlineFiles: string[];
}

export async function populate(options: PopulateOptions): Promise<PopulateResult> {
  const cassandra = cassandraClient(options.cassandra);
  const s3 = s3Client(options.s3);
  const dir = await mkdtemp(join(tmpdir(), "darwin-populator-"));
  let offline: OfflineStoreWriter | undefined;
  try {
    const registry = new GroupRegistry(
      {
        list: () => options.featureGroups,
        get: (_ns, name) => options.featureGroups.find((g) => g.metadata.name === name),
      },
      cassandraTableColumns(cassandra),
    );
    const served = await registry.resolve(options.namespace, options.group, options.version);
    let path = options.file;
    const source = parseS3Uri(options.file);
    if (source) {
      path = join(dir, "input.parquet");
      await downloadObject(s3, source, path);
    }
    if (options.offlineStoreUri) {
      const root = parseS3Uri(options.offlineStoreUri);
      if (!root)
        throw new Error(`the offline store ${options.offlineStoreUri} is not an s3://bucket/prefix URI`);
      offline = new OfflineStoreWriter({ s3, root });
    }
    const result = await loadParquet({
      path,
      target: {
        namespace: served.namespace,
        group: served.name,
        version: served.version,
        keyspace: served.keyspace,
        table: served.table,
        entities: served.entities,
        features: served.features,
      },
      cassandra,
      ...(offline && { offline }),
      ...(options.eventTimeColumn && { eventTimeColumn: options.eventTimeColumn }),
      ...(options.onProgress && { onProgress: options.onProgress }),
    });
    return {
      ...result,
      keyspace: served.keyspace,
      table: served.table,
      version: served.version,
      offlineFiles: offline?.written.map((f) => f.uri) ?? [],
    };
  } finally {
    await offline?.close();
    await rm(dir, { recursive: true, force: true });
    await cassandra.shutdown();
    s3.destroy();
  }
}
