/**
 * The catalog's MLflow sync: every pass reads MLflow's registered models and model versions (REST 2.0:
 * registered-models/search, model-versions/search), registers each model as an asset of type `model` in the
 * tenant its `darwin.namespace` tag names (or the configured default), records each version's lineage
 * (version <- run <- the datasets the run logged as inputs) in that tenant's graph, and removes the assets
 * of models MLflow no longer has (deleted, renamed, or moved to another namespace by their tag). MLflow is
 * the source of truth; a pass that cannot read it changes nothing.
 *
 * An asset is written only when it changed; a run is read from MLflow until it has finished (then its
 * lineage is final and kept in memory), so a steady pass costs two searches and no writes.
 */
import type { Logger } from "pino";
import type { MlflowClient, ModelVersion } from "../../controllers/serve/mlflow-client.ts";
import { jsonEqual } from "../../operator/json.ts";
import type { Pool } from "../shared/mysql.ts";
import { assetsRegisteredBy, deleteAsset, registerAsset } from "./assets.ts";
import { recordRunEvent } from "./lineage.ts";
import {
  MLFLOW_UID_PREFIX,
  mlflowModelAsset,
  modelNamespace,
  type RunInfo,
  runDone,
  versionRunEvent,
} from "./mlflow-models.ts";

export interface MlflowSyncOptions {
  pool: Pool;
  client: MlflowClient;
  log: Logger;
  /**
   * Namespace of models without a `darwin.namespace` tag; without one such models are not registered.
   * @default undefined
   */
  defaultNamespace?: string | undefined;
  /** Time between passes. */
  intervalMs: number;
}

/** What one pass did. */
export interface SyncPass {
  /** Assets written (new or changed). */
  registered: number;
  unchanged: number;
  /** Assets of models MLflow no longer has, or that moved to another namespace. */
  removed: number;
  /** Models left out (no namespace). */
  skipped: number;
  /** Versions whose lineage was recorded. */
  lineage: number;
}

export class MlflowModelSync {
  private readonly options: MlflowSyncOptions;
  /** Finished runs (they no longer change) and experiment names, by id. */
  private readonly runs = new Map<string, RunInfo>();
  private readonly experiments = new Map<string, string>();
  /** Versions whose final lineage is recorded: `<tenant> <model> <version> <run>`. */
  private readonly recorded = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private pass: Promise<unknown> | undefined;
  private stopped = false;

  constructor(options: MlflowSyncOptions) {
    this.options = options;
  }

  /** Runs a pass now and then every interval, until stop(). A failed pass is logged and retried next time. */
  start(): void {
    const tick = () => {
      this.pass = this.syncOnce()
        .catch((err: unknown) =>
          this.options.log.warn(
            { err: err instanceof Error ? err.message : String(err), mlflow: this.options.client.baseURL },
            "MLflow sync failed; retrying at the next pass",
          ),
        )
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs).unref();
        });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.pass;
  }

  /** One pass: MLflow's models into the catalog, stale ones out. */
  async syncOnce(): Promise<SyncPass> {
    const { client, pool, log } = this.options;
    const models = await client.searchRegisteredModels();
    const versionsOf = new Map<string, ModelVersion[]>();
    for (const version of await client.searchModelVersions())
      versionsOf.set(version.name, [...(versionsOf.get(version.name) ?? []), version]);
    const existing = new Map(
      (await assetsRegisteredBy(pool, MLFLOW_UID_PREFIX)).map((a) => [`${a.namespace}/${a.name}`, a]),
    );
    const result: SyncPass = { registered: 0, unchanged: 0, removed: 0, skipped: 0, lineage: 0 };
    const wanted = new Set<string>();
    for (const model of models) {
      const placed = modelNamespace(model, this.options.defaultNamespace);
      if ("skipped" in placed) {
        result.skipped += 1;
        log.debug({ model: model.name, reason: placed.skipped }, "Left MLflow model out of the catalog");
        continue;
      }
      const versions = versionsOf.get(model.name) ?? [];
      const runs = await this.runsOf(versions);
      const asset = mlflowModelAsset(model, placed.namespace, versions, runs);
      const id = `${asset.key.namespace}/${asset.key.name}`;
      wanted.add(id);
      const before = existing.get(id);
      if (
        before?.uid === asset.key.uid &&
        jsonEqual(before.spec, asset.spec) &&
        jsonEqual(before.versions, asset.versions)
      ) {
        result.unchanged += 1;
      } else {
        await registerAsset(pool, asset.key, asset.spec, asset.versions);
        result.registered += 1;
        log.info(
          { namespace: asset.key.namespace, name: asset.key.name, versions: asset.versions.length },
          "Registered MLflow model in the catalog",
        );
      }
      for (const version of versions) {
        const info = version.run_id ? runs.get(version.run_id) : undefined;
        if (info && (await this.recordLineage(placed.namespace, model.name, version, info)))
          result.lineage += 1;
      }
    }
    for (const [id, asset] of existing) {
      if (wanted.has(id)) continue;
      await deleteAsset(pool, asset, asset.uid);
      result.removed += 1;
      log.info(
        { namespace: asset.namespace, name: asset.name },
        "Removed MLflow model from the catalog: MLflow no longer has it in this namespace",
      );
    }
    return result;
  }

  /** The runs of these versions, with their experiments' names; a run MLflow does not have is left out. */
  private async runsOf(versions: ModelVersion[]): Promise<Map<string, RunInfo>> {
    const runs = new Map<string, RunInfo>();
    for (const runId of new Set(versions.flatMap((v) => (v.run_id ? [v.run_id] : [])))) {
      const known = this.runs.get(runId);
      if (known) {
        runs.set(runId, known);
        continue;
      }
      const run = await this.options.client.getRun(runId).catch((err: unknown) => {
        this.options.log.debug(
          { runId, err: String(err) },
          "Left out a model version's run MLflow did not give",
        );
        return undefined;
      });
      if (!run) continue;
      const info: RunInfo = { run, experimentName: await this.experimentName(run.info.experiment_id) };
      runs.set(runId, info);
      if (runDone(run)) this.runs.set(runId, info);
    }
    return runs;
  }

  private async experimentName(id: string): Promise<string | undefined> {
    const known = this.experiments.get(id);
    if (known !== undefined) return known;
    const experiment = await this.options.client.getExperiment(id).catch(() => undefined);
    if (experiment) this.experiments.set(id, experiment.name);
    return experiment?.name;
  }

  /** Records a version's lineage unless its final form already is; true when it wrote. */
  private async recordLineage(
    tenant: string,
    model: string,
    version: ModelVersion,
    info: RunInfo,
  ): Promise<boolean> {
    const key = `${tenant} ${model} ${version.version} ${info.run.info.run_id}`;
    if (this.recorded.has(key)) return false;
    const event = versionRunEvent(model, version, info);
    if (!event) return false;
    await recordRunEvent(this.options.pool, tenant, event);
    if (runDone(info.run)) this.recorded.add(key);
    return true;
  }
}
