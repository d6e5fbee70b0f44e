/**
 * The manager wires registered controllers to the cluster: one shared informer per watched kind and
 * namespace (the controller's own kind and its owned kinds), events mapped to work-queue keys (a child's
 * to its controlling owner), leader election deciding when workers run, and an orderly shutdown.
 *
 * Informers run on every replica, so a standby has warm caches and takes over quickly; only the leader
 * reconciles. A controller starts once the caches it reads have listed; a cache that has not listed
 * within cacheSyncTimeoutSeconds (an owned kind whose CRD is missing) is logged with the list error and
 * shown by unsyncedInformers() (/readyz), and holds back only the controllers that read it. Losing the Lease stops reconciling at once and reports it (run.ts then exits, as
 * controller-runtime does, and the Deployment restarts the pod as a fresh candidate).
 */
import type { Logger } from "pino";
import { FIELD_MANAGER, MANAGED_BY_SELECTOR } from "./apply.ts";
import type { OperatorConfig } from "./config.ts";
import type { CacheReader, CacheTransformFor, ControllerDefinition } from "./controller.ts";
import { type CacheIndex, ControllerRunner } from "./controller-runner.ts";
import { EventRecorder } from "./events.ts";
import { Informer, type InformerEvent } from "./informer.ts";
import { jsonEqual } from "./json.ts";
import type { KubeClient } from "./kube-client.ts";
import { LeaderElector } from "./leader-election.ts";
import { withOnlyAppliedFields } from "./managed-fields.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { controllerOwnerKey } from "./owner-references.ts";
import { type KubeObject, objectKey, type ResourceType, typeId } from "./resource.ts";

export interface ManagerOptions {
  client: KubeClient;
  config: OperatorConfig;
  log: Logger;
  metrics: OperatorMetrics;
  /** Leader-election identity and Event reportingInstance: hostname and a random UUID (processIdentity). */
  identity: string;
  /** Finalizers are named `<finalizerPrefix>/<controller name>` (e.g. the application's API group). */
  finalizerPrefix: string;
  /** Called when leadership is lost (not on a normal stop). */
  onLeadershipLost?: () => void;
}

export class Manager implements CacheIndex, CacheReader {
  private readonly options: ManagerOptions;
  private readonly log: Logger;
  private readonly informers = new Map<string, Informer>();
  /** The application's cache transform per kind (typeId), and the controller that gave it. */
  private readonly transforms = new Map<string, { controller: string; transform: CacheTransformFor }>();
  private readonly runners: ControllerRunner[] = [];
  /** The informer ids each controller reads (its kind, owned and watched kinds). */
  private readonly needs = new Map<ControllerRunner, Set<string>>();
  private readonly events: EventRecorder;
  private readonly stopper = new AbortController();
  private elector: LeaderElector | undefined;
  private election: Promise<void> | undefined;
  private started = false;
  private syncTimedOut = false;
  /** Whether this replica leads: controllers start only then, also when a cache syncs late. */
  private leading = false;
  private stopped = false;
  private stopClientMetrics: (() => void) | undefined;

  constructor(options: ManagerOptions) {
    this.options = options;
    this.log = options.log;
    this.events = new EventRecorder(options.client, {
      controller: "darwin-operator",
      instance: options.identity,
      log: options.log,
    });
  }

  /** Adds a controller; only before start(). */
  register(definition: ControllerDefinition): ControllerRunner {
    if (this.started) throw new Error(`controller ${definition.name} registered after the manager started`);
    if (this.runners.some((r) => r.definition.name === definition.name)) {
      throw new Error(`controller ${definition.name} is registered twice`);
    }
    this.addTransforms(definition);
    const { config } = this.options;
    const runner = new ControllerRunner(definition, {
      client: this.options.client,
      metrics: this.options.metrics,
      log: this.log,
      events: this.events,
      caches: this,
      workers: config.workers,
      queueBackoff: { baseMs: config.queue.baseBackoffMs, maxMs: config.queue.maxBackoffSeconds * 1000 },
      queueRateLimit: { qps: config.queue.retryQps, burst: config.queue.retryBurst },
      finalizerPrefix: this.options.finalizerPrefix,
    });
    this.runners.push(runner);
    const needs = new Set<string>();
    this.needs.set(runner, needs);
    const need = (informers: Array<[string, Informer]>) => {
      for (const [id] of informers) needs.add(id);
      return informers.map(([, informer]) => informer);
    };
    // A controller is not woken by its own writes (it already acted on what it wrote); every other
    // controller reading the kind is, whether it reconciles, owns or watches it.
    const others = (event: InformerEvent) => event.writer !== definition.name;
    for (const informer of need(this.informersFor(definition.for))) {
      informer.on((event) => {
        if (others(event) && !onlyStatusChanged(event)) runner.enqueue(objectKey(event.object.metadata));
      });
    }
    for (const owned of definition.owns ?? []) {
      for (const informer of need(this.informersFor(owned, MANAGED_BY_SELECTOR))) {
        informer.on((event) => {
          if (others(event)) enqueueOwners(event, definition.for, runner);
        });
      }
    }
    for (const watch of definition.watches ?? []) {
      for (const informer of need(this.informersFor(watch.type, watch.labelSelector))) {
        informer.on((event) => {
          if (!others(event)) return;
          const keys = new Set(watch.map(event.object, this));
          if (event.previous) for (const key of watch.map(event.previous, this)) keys.add(key);
          for (const key of keys) runner.enqueue(key);
        });
      }
    }
    return runner;
  }

  /** Records a controller's cache transforms; one kind gets one transform, from whichever reads it. */
  private addTransforms(definition: ControllerDefinition): void {
    const reads = new Set(
      [definition.for, ...(definition.owns ?? []), ...(definition.watches ?? []).map((w) => w.type)].map(
        typeId,
      ),
    );
    for (const given of definition.cacheTransforms ?? []) {
      const id = typeId(given.type);
      if (!reads.has(id)) {
        throw new Error(
          `controller ${definition.name} gives a cache transform for ${id}, which it neither reconciles, owns nor watches`,
        );
      }
      const earlier = this.transforms.get(id);
      if (earlier && earlier.transform.transform !== given.transform) {
        throw new Error(
          `controllers ${earlier.controller} and ${definition.name} give different cache transforms for ${id}: one kind has one cache`,
        );
      }
      if (!earlier) this.transforms.set(id, { controller: definition.name, transform: given });
    }
  }

  /**
   * What the caches keep of an object of `type`: without the managedFields entries the runtime does not
   * read (all but its own apply's), then through the application's transform for the kind, if any.
   */
  private keep(type: ResourceType, object: KubeObject): KubeObject {
    const kept = withOnlyAppliedFields(object, FIELD_MANAGER);
    const transform = this.transforms.get(typeId(type))?.transform.transform;
    return transform ? transform(kept) : kept;
  }

  /**
   * The informer caching `type` in `namespace` (or cluster-wide), when one runs: the unfiltered one when
   * the kind is reconciled or watched whole, else the owned kind's (managed-by label only), else a
   * watch's with its label selector.
   */
  informer(type: ResourceType, namespace: string | undefined): Informer | undefined {
    const namespaces = this.options.config.namespaces;
    const scope = !type.namespaced || namespaces.length === 0 ? "*" : (namespace ?? "");
    const id = informerId(type, scope);
    const filtered = `${id}?`;
    return (
      this.informers.get(id) ??
      this.informers.get(informerId(type, scope, MANAGED_BY_SELECTOR)) ??
      [...this.informers].find(([other]) => other.startsWith(filtered))?.[1]
    );
  }

  caches(type: ResourceType): boolean {
    const prefix = `${typeId(type)}@`;
    return [...this.informers.keys()].some((id) => id.startsWith(prefix));
  }

  /** CacheReader: cached objects of a type, in one namespace or all. */
  list(type: ResourceType, namespace?: string): readonly KubeObject[] {
    const scope = type.namespaced ? namespace : undefined;
    if (scope === undefined && type.namespaced && this.options.config.namespaces.length > 0) {
      return this.options.config.namespaces.flatMap((ns) => this.informer(type, ns)?.list(ns) ?? []);
    }
    return this.informer(type, scope)?.list(scope) ?? [];
  }

  /** The registered controllers' runners (their queues show pending and in-flight work). */
  get controllers(): readonly ControllerRunner[] {
    return this.runners;
  }

  /** Requests a reconcile of `key` by the named controller (tests, and future triggers from outside). */
  enqueue(controller: string, key: string): void {
    const runner = this.runners.find((r) => r.definition.name === controller);
    if (!runner) throw new Error(`no controller named ${controller}`);
    runner.enqueue(key);
  }

  /** True once every informer has listed its kind. */
  get synced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced);
  }

  /**
   * What is not synced yet and why, for /readyz: `<resource>@<namespace or *>[?<label selector>]: <last
   * list error>`, e.g. `widgets.example.com@*: GET /apis/example.com/v1/widgets: 404 NotFound: the server
   * could not find the requested resource`.
   */
  unsyncedInformers(): string[] {
    return [...this.informers.entries()]
      .filter(([, i]) => !i.hasSynced)
      .map(([id, i]) => `${id}: ${i.syncFailure ?? "waiting for the first list"}`);
  }

  /**
   * Starts informers, waits until they have listed, then campaigns for leadership (or, with leader
   * election off, starts the controllers). Resolves once the caches are synced.
   */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.stopClientMetrics = this.options.metrics.observeClient(this.options.client);
    for (const informer of this.informers.values()) informer.start();
    for (const [id, informer] of this.informers) {
      void informer.waitForSync().then(() => this.informerSynced(id));
    }
    await this.waitForCaches();
    if (this.stopped) return;
    const election = this.options.config.leaderElection;
    if (!election.enabled) {
      this.startLeading();
      return;
    }
    const leaseName = election.leaseName;
    this.elector = new LeaderElector(this.options.client, {
      namespace: election.namespace,
      name: leaseName,
      identity: this.options.identity,
      leaseDurationMs: election.leaseDurationSeconds * 1000,
      renewDeadlineMs: election.renewDeadlineSeconds * 1000,
      retryPeriodMs: election.retryPeriodSeconds * 1000,
      log: this.log,
      onStartedLeading: () => this.startLeading(),
      onStoppedLeading: (reason) => {
        if (reason === "lost") this.lostLeadership();
      },
      onLeadership: (leading) => this.options.metrics.leaderStatus.set({ name: leaseName }, leading ? 1 : 0),
    });
    this.options.metrics.leaderStatus.set({ name: leaseName }, 0);
    this.election = this.elector.run(this.stopper.signal);
  }

  /**
   * Graceful stop: no new reconciles, in-flight ones finish (up to the shutdown timeout), pending Events
   * are written, the Lease is released, informers stop.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const timeoutMs = this.options.config.shutdownTimeoutSeconds * 1000;
    await Promise.all(this.runners.map((r) => r.stop(timeoutMs)));
    await this.events.flush();
    this.stopper.abort();
    await this.election;
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.stopClientMetrics?.();
    this.leading = false;
    this.log.info("Stopped manager");
  }

  /**
   * Waits until every informer has listed, or the sync timeout passes; then logs each one still waiting,
   * with the error of its last list, and the controllers that wait for it.
   */
  private async waitForCaches(): Promise<void> {
    const all = Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = this.options.config.cacheSyncTimeoutSeconds * 1000;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([all.then(() => false), timedOut]);
    clearTimeout(timer);
    this.syncTimedOut = late;
    if (!late) {
      this.log.info({ informers: this.informers.size, controllers: this.runners.length }, "Synced caches");
      return;
    }
    for (const [id, informer] of this.informers) {
      if (informer.hasSynced) continue;
      const waiting = this.runners.filter((r) => this.needs.get(r)?.has(id)).map((r) => r.definition.name);
      this.log.error(
        {
          informer: id,
          kind: informer.type.kind,
          apiVersion: informer.type.apiVersion,
          reason: informer.syncFailure ?? "no answer to the first list yet",
          waitingControllers: waiting,
          timeoutSeconds: this.options.config.cacheSyncTimeoutSeconds,
        },
        "Cache did not sync in time; the controllers that read it wait for it, the others start",
      );
    }
  }

  /** A cache synced; after the sync timeout, its controllers may start now. */
  private informerSynced(id: string): void {
    if (!this.syncTimedOut || this.stopped) return;
    this.log.info({ informer: id }, "Synced cache late");
    if (this.leading) this.startReadyRunners();
  }

  /** Starts every controller whose caches have all listed (and that is not running yet). */
  private startReadyRunners(): void {
    for (const runner of this.runners) {
      if (runner.running || runner.queue.isShuttingDown) continue;
      const needs = this.needs.get(runner) ?? new Set<string>();
      if ([...needs].every((id) => this.informers.get(id)?.hasSynced)) runner.start();
    }
  }

  private startLeading(): void {
    if (this.stopped) return;
    this.leading = true;
    this.startReadyRunners();
  }

  private lostLeadership(): void {
    this.leading = false;
    for (const runner of this.runners) runner.abort();
    this.options.onLeadershipLost?.();
  }

  /**
   * The informers for a kind (with a label selector, or all objects): one cluster-wide, or one per
   * configured namespace. Shared between controllers.
   */
  private informersFor(type: ResourceType, labelSelector?: string): Array<[string, Informer]> {
    const { config } = this.options;
    const scopes = !type.namespaced || config.namespaces.length === 0 ? ["*"] : config.namespaces;
    return scopes.map((scope): [string, Informer] => {
      const id = informerId(type, scope, labelSelector);
      let informer = this.informers.get(id);
      if (!informer) {
        informer = new Informer(this.options.client, type, {
          namespace: scope === "*" ? undefined : scope,
          labelSelector,
          resyncPeriodMs: config.resyncPeriodSeconds * 1000,
          silenceTimeoutMs: config.watch.silenceTimeoutSeconds * 1000,
          watchTimeoutSeconds: config.watch.timeoutSeconds,
          backoff: { baseMs: 200, maxMs: config.watch.maxBackoffSeconds * 1000 },
          log: this.log,
          observer: this.options.metrics.informerObserver(),
          // Looked up per object: a controller registered later may give the kind's transform.
          transform: (object) => this.keep(type, object),
        });
        this.informers.set(id, informer);
      }
      return [id, informer];
    });
  }
}

/** `deployments.apps@team-a`, `deployments.apps@*?app.kubernetes.io/managed-by=darwin-operator`. */
function informerId(type: ResourceType, scope: string, labelSelector?: string): string {
  return `${typeId(type)}@${scope}${labelSelector ? `?${labelSelector}` : ""}`;
}

/**
 * An update of the reconciled object that changed only its status (and resourceVersion, managedFields):
 * the result of a reconcile, ours or another writer's counters, not a reason to reconcile. Generation
 * (spec), labels, annotations, finalizers, owners and deletion do wake it; so does the periodic resync.
 */
export function onlyStatusChanged(event: InformerEvent): boolean {
  if (event.type !== "updated" || !event.previous) return false;
  const { metadata: now } = event.object;
  const { metadata: before } = event.previous;
  return (
    now.generation === before.generation &&
    now.deletionTimestamp === before.deletionTimestamp &&
    jsonEqual(now.labels, before.labels) &&
    jsonEqual(now.annotations, before.annotations) &&
    jsonEqual(now.finalizers, before.finalizers) &&
    jsonEqual(now.ownerReferences, before.ownerReferences) &&
    jsonEqual(specOf(event.object), specOf(event.previous))
  );
}

/** Everything but metadata and status: for kinds without a status subresource, a change here is a change. */
function specOf(object: KubeObject): unknown {
  const { metadata: _m, status: _s, ...rest } = object;
  return rest;
}

/** A child's event wakes its controlling owner (also the previous one, if the reference changed). */
function enqueueOwners(event: InformerEvent, ownerType: ResourceType, runner: ControllerRunner): void {
  const key = controllerOwnerKey(event.object, ownerType);
  if (key) runner.enqueue(key);
  if (event.previous) {
    const previous = controllerOwnerKey(event.previous, ownerType);
    if (previous && previous !== key) runner.enqueue(previous);
  }
}
