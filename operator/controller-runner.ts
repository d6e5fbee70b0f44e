/**
 * Runs one controller: its work queue and workers, and around each reconcile the parts every controller
 * shares (finalizer handling, terminal-error reporting, retries, metrics, logs).
 */
import type { Logger } from "pino";
import { type ApiError, forbiddenAction, isConflict, isForbidden, isNotFound } from "./api-error.ts";
import { type ApplyResult, applyObject, withManagedByLabel } from "./apply.ts";
import type { BackoffOptions, RateLimitOptions } from "./backoff.ts";
import { setCondition } from "./conditions.ts";
import {
  type CacheReader,
  type ControllerDefinition,
  type ReconcileContext,
  type ReconcileResult,
  TerminalError,
} from "./controller.ts";
import type { EventRecorder } from "./events.ts";
import { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizers.ts";
import type { Informer } from "./informer.ts";
import type { JsonObject } from "./json.ts";
import type { KubeClient } from "./kube-client.ts";
import type { OperatorMetrics } from "./metrics.ts";
import {
  type KubeObject,
  objectLogFields,
  parseKey,
  type ResourceType,
  resourcePath,
  typeId,
} from "./resource.ts";
import { liveStatus, patchStatus } from "./status.ts";
import { WorkQueue } from "./workqueue.ts";

/** Finds the informer that caches a type in a namespace. */
export interface CacheIndex extends CacheReader {
  informer(type: ResourceType, namespace: string | undefined): Informer | undefined;
  /** Whether any informer caches the type. */
  caches(type: ResourceType): boolean;
}

export interface ControllerRunnerOptions {
  client: KubeClient;
  metrics: OperatorMetrics;
  log: Logger;
  events: EventRecorder;
  caches: CacheIndex;
  workers: number;
  queueBackoff?: BackoffOptions | undefined;
  queueRateLimit?: RateLimitOptions | undefined;
  /** Finalizers are named `<finalizerPrefix>/<controller name>` unless the definition names its own. */
  finalizerPrefix: string;
}

/** Per-reconcile state behind the context: the object as last written, and how many writes were made. */
interface ReconcileState {
  object: KubeObject;
  writes: number;
}

interface Outcome {
  writes: number;
  result?: ReconcileResult | undefined;
}

export class ControllerRunner {
  readonly definition: ControllerDefinition;
  readonly queue: WorkQueue;
  readonly finalizer: string;
  private readonly options: ControllerRunnerOptions;
  private readonly log: Logger;
  private readonly aborter = new AbortController();
  /** Errors already reported with a condition and an Event (cleanup failures, forbidden requests). */
  private readonly reported = new WeakSet<object>();
  private workers: Promise<void>[] = [];

  constructor(definition: ControllerDefinition, options: ControllerRunnerOptions) {
    this.definition = definition;
    this.options = options;
    this.finalizer = definition.finalizerName ?? `${options.finalizerPrefix}/${definition.name}`;
    this.log = options.log.child({ controller: definition.name });
    this.queue = new WorkQueue({
      backoff: options.queueBackoff,
      rateLimit: options.queueRateLimit,
      observer: options.metrics.queueObserver(definition.name),
    });
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  get running(): boolean {
    return this.workers.length > 0 && !this.queue.isShuttingDown;
  }

  start(): void {
    if (this.workers.length > 0) return;
    const count = this.definition.workers ?? this.options.workers;
    this.options.metrics.maxConcurrentReconciles.set({ controller: this.definition.name }, count);
    for (let i = 0; i < count; i++) this.workers.push(this.work());
    this.log.info({ workers: count }, "Started controller");
  }

  /**
   * Stops taking work and waits for reconciles in flight; after `drainTimeoutMs` their signal is aborted
   * (they should return soon after).
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.queue.shutDown();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.log.warn(
          { inFlight: this.queue.inFlight },
          "Aborted reconciles that outlived the shutdown timeout",
        );
        this.aborter.abort();
        resolve();
      }, drainTimeoutMs);
    });
    await Promise.race([this.queue.drain(), timeout]);
    clearTimeout(timer);
    await Promise.all(this.workers);
    this.log.info("Stopped controller");
  }

  /** Stops at once (leadership lost): no new work, in-flight reconciles are aborted. */
  abort(): void {
    this.queue.shutDown();
    this.aborter.abort();
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
      // A reconcile that finds nothing to change does no I/O, so a queue of them (a resync of many
      // unchanged objects) would run in one stretch of promise callbacks and starve everything else: HTTP
      // (probes, metrics), watches, lease renewal. Each worker lets the event loop turn between keys.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async process(key: string): Promise<void> {
    const { metrics } = this.options;
    const controller = this.definition.name;
    const started = performance.now();
    metrics.activeWorkers.inc({ controller });
    let result: "success" | "error" | "requeue_after" = "success";
    const log = this.log.child(keyLogFields(this.definition.for, key));
    try {
      const state = await this.reconcileKey(key, log);
      this.queue.forget(key);
      const after = state.result?.requeueAfterMs;
      if (after !== undefined && after > 0) {
        this.queue.addAfter(key, after);
        result = "requeue_after";
      }
      const fields = {
        writes: state.writes,
        durationMs: Math.round(performance.now() - started),
        requeueAfterMs: after,
      };
      if (state.writes > 0) log.info(fields, `Reconciled ${this.definition.for.kind}`);
      else log.debug(fields, `Reconciled ${this.definition.for.kind}`);
    } catch (err) {
      result = "error";
      metrics.reconcileErrors.inc({ controller });
      if (err instanceof TerminalError) {
        metrics.terminalErrors.inc({ controller });
        this.queue.forget(key);
        log.error({ reason: err.reason, err: err.message }, "Reconcile failed terminally");
      } else if (this.aborter.signal.aborted) {
        log.info({ err: String(err) }, "Reconcile was aborted");
      } else {
        const retryInMs = this.queue.nextDelay(key);
        this.queue.addRateLimited(key);
        const fields = { err: String(err), retryInMs, retries: this.queue.retries(key) };
        if (isConflict(err)) {
          log.info(fields, "Reconcile hit a write conflict");
        } else {
          log.warn(fields, "Reconcile failed");
          if (!(err instanceof Object && this.reported.has(err))) this.recordFailure(key, err);
        }
      }
    } finally {
      this.queue.done(key);
      metrics.activeWorkers.dec({ controller });
      metrics.reconcileTime.observe({ controller }, (performance.now() - started) / 1000);
      metrics.reconcileTotal.inc({ controller, result });
    }
  }

  /** A Warning Event for a failed (retried) reconcile; repeats fold into one series. */
  private recordFailure(key: string, err: unknown): void {
    const { namespace, name } = parseKey(key);
    const object = this.options.caches.informer(this.definition.for, namespace)?.get(namespace, name);
    if (!object) return;
    const note = `Reconcile failed and will be retried: ${err instanceof Error ? err.message : String(err)}`;
    this.options.events.record(object, {
      type: "Warning",
      reason: "ReconcileFailed",
      action: "Reconcile",
      note,
    });
  }

  private async reconcileKey(key: string, log: Logger): Promise<Outcome> {
    const def = this.definition;
    const { namespace, name } = parseKey(key);
    const informer = this.options.caches.informer(def.for, namespace);
    const cached = informer?.get(namespace, name);
    // A missing object is success: it was deleted and nothing of ours holds it.
    if (!cached) return { writes: 0 };
    const state: ReconcileState = { object: structuredClone(cached), writes: 0 };
    const ctx = this.context(state, informer, log);
    const deleting = state.object.metadata.deletionTimestamp !== undefined;

    if (def.finalize) {
      if (deleting) {
        await this.finalizeObject(ctx, state, informer, log);
        return { writes: state.writes };
      }
      if (!hasFinalizer(state.object, this.finalizer)) {
        await this.editFinalizers(addFinalizer, state, informer, ctx.signal);
        log.info({ finalizer: this.finalizer }, "Added finalizer");
      }
    } else if (deleting) {
      return { writes: 0 };
    }

    try {
      const result = await def.reconcile(ctx);
      return { writes: state.writes, result };
    } catch (err) {
      if (err instanceof TerminalError) await this.reportFailure(ctx, err.reason, err.message, "Reconcile");
      else if (isForbidden(err)) await this.reportForbidden(ctx, err as ApiError, log);
      throw err;
    }
  }

  private async finalizeObject(
    ctx: ReconcileContext,
    state: ReconcileState,
    informer: Informer | undefined,
    log: Logger,
  ) {
    const def = this.definition;
    if (!def.finalize || !hasFinalizer(state.object, this.finalizer)) return;
    try {
      await def.finalize(ctx);
    } catch (err) {
      const message = `Cleanup failed; the finalizer ${this.finalizer} stays until it succeeds: ${err instanceof Error ? err.message : String(err)}`;
      try {
        await this.reportFailure(
          ctx,
          err instanceof TerminalError ? err.reason : "CleanupFailed",
          message,
          "Cleanup",
        );
        if (err instanceof Object) this.reported.add(err);
      } catch (reportErr) {
        log.warn({ err: String(reportErr) }, "Cleanup failure was not reported");
      }
      throw err;
    }
    await this.editFinalizers(removeFinalizer, state, informer, ctx.signal);
    ctx.event({
      type: "Normal",
      reason: "CleanedUp",
      action: "Cleanup",
      note: `Cleaned up and removed the finalizer ${this.finalizer}.`,
    });
    log.info({ finalizer: this.finalizer }, "Cleaned up and removed finalizer");
  }

  /** Adds or removes this controller's finalizer, keeping the state and the cache current. */
  private async editFinalizers(
    edit: typeof addFinalizer,
    state: ReconcileState,
    informer: Informer | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    state.object = await edit(this.options.client, this.definition.for, state.object, this.finalizer, signal);
    state.writes += 1;
    informer?.assume(state.object, this.definition.name);
  }

  /**
   * A request the operator's role does not allow: the user sees it in the Ready condition (the apiserver's
   * message names the verb and the resource), not only in the operator's log. Still retried: a fixed
   * role makes the next attempt pass.
   */
  private async reportForbidden(ctx: ReconcileContext, err: ApiError, log: Logger): Promise<void> {
    const message = `The operator may not ${forbiddenAction(err)}: its RBAC role lacks the permission; grant it and the retried reconcile goes on (${err.message}).`;
    try {
      await this.reportFailure(ctx, "Forbidden", message, "Reconcile");
      this.reported.add(err);
    } catch (reportErr) {
      log.warn({ err: String(reportErr) }, "Forbidden error was not reported in the status");
    }
  }

  /** Ready=False with the reason, and a Warning Event; throws if the status cannot be written. */
  private async reportFailure(
    ctx: ReconcileContext,
    reason: string,
    message: string,
    action: string,
  ): Promise<void> {
    const object = ctx.object;
    const generation = object.metadata.generation;
    const status = liveStatus(object);
    const conditions = setCondition(
      Array.isArray(status.conditions) ? status.conditions : undefined,
      { type: "Ready", status: "False", reason, message },
      { now: ctx.now(), observedGeneration: generation },
    );
    await ctx.updateStatus({ ...status, observedGeneration: generation, conditions });
    ctx.event({ type: "Warning", reason, action, note: message });
  }

  private context(state: ReconcileState, informer: Informer | undefined, log: Logger): ReconcileContext {
    const { client, caches, events } = this.options;
    const def = this.definition;
    const signal = this.aborter.signal;
    const childNamespace = (type: ResourceType, desired: KubeObject) =>
      type.namespaced ? (desired.metadata.namespace ?? state.object.metadata.namespace) : undefined;
    /** Applies a child of the object; with `conditional`, only over the live version it was rendered from. */
    const applyChild = async (
      type: ResourceType,
      desired: KubeObject,
      live: KubeObject | undefined,
      conditional: boolean,
    ): Promise<ApplyResult> => {
      const namespace = childNamespace(type, desired);
      const metadata = { ...desired.metadata };
      if (namespace === undefined) delete metadata.namespace;
      else metadata.namespace = namespace;
      // The label the owned kinds' caches select on: without it the child would be invisible to them.
      const child = withManagedByLabel({ ...desired, metadata });
      const result = await applyObject(client, type, child, {
        owner: state.object,
        live,
        signal,
        resourceVersion: conditional ? live?.metadata.resourceVersion : undefined,
      });
      if (result.written) {
        state.writes += 1;
        caches.informer(type, namespace)?.assume(result.object, def.name);
        log.info({ child: objectLogFields(result.object) }, `Applied ${type.kind}`);
      }
      return result;
    };
    /** The child as the server has it now (undefined when it does not exist). */
    const readLive = async (type: ResourceType, namespace: string | undefined, name: string) => {
      try {
        return await client.requestObject({
          method: "GET",
          path: resourcePath(type, namespace, name),
          signal,
        });
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    };
    return {
      get object() {
        return state.object;
      },
      log,
      signal,
      client,
      now: () => new Date(),
      async apply(type: ResourceType, desired: KubeObject) {
        const namespace = childNamespace(type, desired);
        const live = caches.informer(type, namespace)?.get(namespace, desired.metadata.name);
        return applyChild(type, desired, live, false);
      },
      async applyFromLive(type, name, render) {
        const namespace = type.namespaced ? state.object.metadata.namespace : undefined;
        const cached = caches.informer(type, namespace)?.get(namespace, name);
        // Without a cached copy, read the server: the child may exist with values the render must keep.
        let live = cached ? structuredClone(cached) : await readLive(type, namespace, name);
        for (let attempt = 1; ; attempt++) {
          try {
            return await applyChild(type, render(live), live, true);
          } catch (err) {
            if (!isConflict(err) || attempt >= 3) throw err;
            log.debug(
              { child: { kind: type.kind, namespace, name }, attempt },
              "Read child again after a write conflict",
            );
            live = await readLive(type, namespace, name);
          }
        }
      },
      async updateStatus(status: JsonObject) {
        const written = await patchStatus(client, def.for, state.object, status, signal);
        if (!written) return false;
        state.object = written;
        state.writes += 1;
        informer?.assume(written, def.name);
        log.debug("Updated status");
        return true;
      },
      event: (input) => events.record(state.object, input),
      cached: (type, namespace, name) => {
        const found = caches.informer(type, namespace)?.get(namespace, name);
        return found ? structuredClone(found) : undefined;
      },
      list: (type, namespace) => {
        if (!caches.caches(type)) {
          throw new Error(
            `controller ${def.name} lists ${typeId(type)}, which it does not cache: add it to owns or watches`,
          );
        }
        return caches.list(type, namespace).map((object) => structuredClone(object));
      },
      async delete(type, namespace, name, uid) {
        const scope = type.namespaced ? namespace : undefined;
        try {
          await client.request({
            method: "DELETE",
            path: resourcePath(type, scope, name),
            body: { propagationPolicy: "Background", ...(uid && { preconditions: { uid } }) },
            signal,
          });
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
        state.writes += 1;
        log.info({ child: { kind: type.kind, namespace: scope, name } }, `Deleted ${type.kind}`);
        return true;
      },
    };
  }
}

function keyLogFields(type: ResourceType, key: string) {
  const { namespace, name } = parseKey(key);
  return { kind: type.kind, namespace, name };
}
