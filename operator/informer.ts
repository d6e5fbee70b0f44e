/**
 * An informer keeps an in-memory copy of one resource type (in one namespace or all) by list+watch, and
 * tells its handlers what changed. It is built to survive what real apiservers do:
 * - 410 Gone (the resourceVersion it resumes from was compacted or is older than the watch cache): it
 *   lists again and reports the difference to its cache, so no add, change or delete is lost;
 * - any other failure (connection refused or reset, apiserver restart, 5xx): it retries with jittered
 *   exponential backoff, resuming the watch from the last resourceVersion it saw;
 * - silent stalls (a half-open connection): with bookmarks on, the apiserver sends something at least
 *   every minute, so a watch silent for longer than silenceTimeoutMs is torn down and restarted;
 * - server-side watch timeouts: it reconnects at once.
 * A periodic resync re-announces every cached object, so reconcilers heal drift nobody was told about.
 * Deletions leave a tombstone for a while, so the response of a write that arrives after the watch
 * reported the object deleted cannot bring it back (see assume()).
 * A transform, when given, is applied to every object before it is cached or announced (listed, watched or
 * assumed), so the cache holds only what readers need (see CacheTransform).
 */
import type { Logger } from "pino";
import { ApiError, isGone } from "./api-error.ts";
import { type BackoffOptions, JitteredBackoff, sleep } from "./backoff.ts";
import type { KubeClient } from "./kube-client.ts";
import {
  compareResourceVersions,
  type KubeObject,
  kubeObject,
  objectKey,
  objectList,
  type ResourceType,
  resourcePath,
  typeId,
} from "./resource.ts";
import { readWatchEvents, watchBookmark } from "./watch-events.ts";

export type InformerEventType = "added" | "updated" | "deleted" | "resync";

export interface InformerEvent {
  type: InformerEventType;
  /** The object now (for "deleted": its last known state). */
  object: KubeObject;
  /** The cached object it replaced, for "updated". */
  previous?: KubeObject;
  /**
   * For a write the operator made itself (assume()): who wrote it (a controller's name). The writer's own
   * handlers skip the event; every other handler of the kind must hear of the write, since the watch event
   * that follows carries a version already cached and is not announced.
   */
  writer?: string;
}

export type InformerHandler = (event: InformerEvent) => void;

/**
 * What an informer keeps of an object: called on every listed, watched and assumed object before it is
 * cached; returns the object to cache, leaving its argument as it was (assume() is given an object its
 * caller goes on using). It must keep metadata.name, namespace, uid and resourceVersion, and everything
 * the cache's readers use.
 */
export type CacheTransform = (object: KubeObject) => KubeObject;

/** Why a watch was (re)started; counted in metrics. */
export type WatchRestartReason = "gone" | "error" | "silence" | "closed";

export interface InformerObserver {
  listed(resource: string): void;
  watchRestarted(resource: string, reason: WatchRestartReason): void;
}

export interface InformerOptions {
  /** Watch one namespace; all namespaces when undefined (and for cluster-scoped types). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** Re-announce every cached object this often; 0 turns resync off. */
  resyncPeriodMs: number;
  /** Restart a watch that sent nothing (not even a bookmark) for this long. */
  silenceTimeoutMs: number;
  /** Server-side watch timeout; each watch picks a random value between this and twice this. */
  watchTimeoutSeconds: number;
  /** Backoff between failed lists or watches. */
  backoff: BackoffOptions;
  /** Page size of lists. */
  pageSize?: number;
  log: Logger;
  observer?: InformerObserver | undefined;
  /** Applied to each object before it is cached; the whole object is cached when undefined. */
  transform?: CacheTransform | undefined;
}

/** How long a deleted object's tombstone keeps assume() from bringing it back. */
const TOMBSTONE_TTL_MS = 5 * 60_000;

/** What the informer remembers of a deleted object: its uid, the version it was deleted at, when. */
interface Tombstone {
  uid: string | undefined;
  resourceVersion: string | undefined;
  at: number;
}

export class Informer {
  readonly type: ResourceType;
  readonly namespace: string | undefined;
  /** Counts for tests and logs: lists done, 410s seen, watches restarted, events and bookmarks received. */
  readonly stats = { lists: 0, gone: 0, restarts: 0, events: 0, bookmarks: 0 };
  private readonly client: KubeClient;
  private readonly options: InformerOptions;
  private readonly cache = new Map<string, KubeObject>();
  private readonly tombstones = new Map<string, Tombstone>();
  private readonly handlers = new Set<InformerHandler>();
  private readonly log: Logger;
  private resourceVersion: string | undefined;
  private synced = false;
  private lastFailure: string | undefined;
  private syncWaiters: Array<() => void> = [];
  private stopper: AbortController | undefined;
  private loop: Promise<void> | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(client: KubeClient, type: ResourceType, options: InformerOptions) {
    this.client = client;
    this.type = type;
    this.namespace = type.namespaced ? options.namespace : undefined;
    this.options = options;
    this.log = options.log.child({ informer: typeId(type), watchNamespace: this.namespace ?? "*" });
  }

  /** Subscribes to changes; returns a function that unsubscribes. */
  on(handler: InformerHandler): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Starts listing and watching; after stop(), resumes the watch from where it stopped. */
  start(): void {
    if (this.loop) return;
    this.stopper = new AbortController();
    this.loop = this.run(this.stopper.signal);
    if (this.synced) this.startResync();
  }

  async stop(): Promise<void> {
    this.stopper?.abort();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.loop;
    this.loop = undefined;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** Why the first list has not succeeded yet (the last list or watch error), while not synced. */
  get syncFailure(): string | undefined {
    return this.synced ? undefined : this.lastFailure;
  }

  /** The resourceVersion the next watch resumes from (advanced by events and bookmarks). */
  get lastSyncResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  /** Resolves once the first list is in the cache. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** The cached object; shared, so callers copy before changing it. */
  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(objectKey({ namespace: this.type.namespaced ? namespace : undefined, name }));
  }

  /** Cached objects, optionally of one namespace. */
  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
  }

  /**
   * Puts an object the operator just wrote into the cache, if it is newer than the cached one, so a
   * reconcile that runs before the watch delivers the write does not act on stale data, and announces it
   * at once as `writer`'s (the watch event of that write, carrying the same resourceVersion, is then not
   * announced again). Handlers other than the writer's hear of it like of any change: a kind one
   * controller writes and another reconciles or watches wakes the other. A later watch event or relist
   * corrects the cache if the object changed meanwhile. An object the watch or a relist already reported
   * deleted (same uid, or a version not newer than the deletion) is not brought back: the response of a
   * write can arrive after the deletion that followed it, and a ghost in the cache would make an apply
   * believe a child exists that does not.
   */
  assume(written: KubeObject, writer: string): void {
    const object = this.keep(written);
    const key = objectKey(object.metadata);
    const cached = this.cache.get(key);
    if (!cached) {
      if (this.buried(key, object)) return;
      this.cache.set(key, object);
      this.emit({ type: "added", object, writer });
      return;
    }
    const order = compareResourceVersions(cached.metadata.resourceVersion, object.metadata.resourceVersion);
    if (order === undefined || order >= 0) return;
    this.cache.set(key, object);
    this.emit({ type: "updated", object, previous: cached, writer });
  }

  /** The object as the cache keeps it. */
  private keep(object: KubeObject): KubeObject {
    return this.options.transform ? this.options.transform(object) : object;
  }

  /** Whether `object` is (a version of) an object already seen deleted. */
  private buried(key: string, object: KubeObject): boolean {
    const tombstone = this.tombstones.get(key);
    if (!tombstone) return false;
    if (Date.now() - tombstone.at > TOMBSTONE_TTL_MS) {
      this.tombstones.delete(key);
      return false;
    }
    if (tombstone.uid !== undefined && tombstone.uid === object.metadata.uid) return true;
    const order = compareResourceVersions(object.metadata.resourceVersion, tombstone.resourceVersion);
    return order === undefined || order <= 0;
  }

  /** Remembers a deletion; drops tombstones past their time, so the map stays small. */
  private bury(key: string, object: KubeObject, resourceVersion: string | undefined): void {
    const now = Date.now();
    for (const [k, t] of this.tombstones) if (now - t.at > TOMBSTONE_TTL_MS) this.tombstones.delete(k);
    this.tombstones.set(key, { uid: object.metadata.uid, resourceVersion, at: now });
  }

  private async run(stop: AbortSignal): Promise<void> {
    const backoff = new JitteredBackoff(this.options.backoff);
    let goneInARow = 0;
    const healthy = () => {
      backoff.reset();
      goneInARow = 0;
    };
    while (!stop.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist(stop);
        const started = Date.now();
        const reason = await this.watch(stop, healthy);
        if (stop.aborted) break;
        this.restarted(reason);
        // A server that ends watches as soon as they open (one shutting down) must not make this spin.
        if (Date.now() - started < 1000) await sleep(backoff.next(), stop);
      } catch (err) {
        if (stop.aborted) break;
        if (isGone(err)) {
          this.stats.gone += 1;
          goneInARow += 1;
          this.log.info(
            { err: String(err), resourceVersion: this.resourceVersion },
            "Watch expired (410 Gone)",
          );
          this.resourceVersion = undefined;
          this.restarted("gone");
          // One relist after a 410 is normal; a loop of them is not, so from the second one it backs off.
          if (goneInARow > 1) await sleep(backoff.next(), stop);
          continue;
        }
        const delay = backoff.next();
        const silent = err instanceof SilentWatchError;
        this.lastFailure = err instanceof Error ? err.message : String(err);
        this.restarted(silent ? "silence" : "error");
        this.log.warn(
          { err: String(err), retryInMs: delay },
          silent ? "Restarted silent watch" : "Watch failed",
        );
        await sleep(delay, stop);
      }
    }
  }

  private restarted(reason: WatchRestartReason): void {
    this.stats.restarts += 1;
    this.options.observer?.watchRestarted(typeId(this.type), reason);
  }

  /** Lists everything, replaces the cache and announces the differences. */
  private async relist(stop: AbortSignal): Promise<void> {
    const path = resourcePath(this.type, this.namespace);
    const fresh = new Map<string, KubeObject>();
    let continueToken: string | undefined;
    let listVersion: string | undefined;
    do {
      const page = objectList.parse(
        await this.client.request({
          method: "GET",
          path,
          query: {
            limit: this.options.pageSize ?? 500,
            continue: continueToken,
            labelSelector: this.options.labelSelector,
          },
          signal: stop,
        }),
      );
      for (const item of page.items) {
        // List items of built-in kinds carry no apiVersion and kind.
        const object = this.keep(
          kubeObject.parse({ apiVersion: this.type.apiVersion, kind: this.type.kind, ...item }),
        );
        fresh.set(objectKey(object.metadata), object);
      }
      continueToken = page.metadata.continue || undefined;
      listVersion = page.metadata.resourceVersion;
    } while (continueToken);

    const previous = new Map(this.cache);
    this.cache.clear();
    for (const [key, object] of fresh) this.cache.set(key, object);
    this.resourceVersion = listVersion;
    this.stats.lists += 1;
    this.options.observer?.listed(typeId(this.type));
    if (this.synced) this.log.info({ objects: fresh.size, resourceVersion: listVersion }, "Relisted objects");
    else this.log.debug({ objects: fresh.size, resourceVersion: listVersion }, "Listed objects");

    for (const [key, object] of fresh) {
      const old = previous.get(key);
      if (!old) this.emit({ type: "added", object });
      else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        this.emit({ type: "updated", object, previous: old });
      }
    }
    for (const [key, object] of previous) {
      if (fresh.has(key)) continue;
      this.bury(key, object, listVersion);
      this.emit({ type: "deleted", object });
    }

    if (!this.synced) {
      this.synced = true;
      this.lastFailure = undefined;
      for (const wake of this.syncWaiters.splice(0)) wake();
      this.startResync();
    }
  }

  /**
   * Watches from the last resourceVersion until the server ends the watch (normal: "closed") or something
   * fails (thrown). `healthy` is called whenever the watch proves alive.
   */
  private async watch(stop: AbortSignal, healthy: () => void): Promise<WatchRestartReason> {
    const aborter = new AbortController();
    const onStop = () => aborter.abort();
    stop.addEventListener("abort", onStop, { once: true });
    let silent = false;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        silent = true;
        aborter.abort();
      }, this.options.silenceTimeoutMs);
    };
    const base = this.options.watchTimeoutSeconds;
    const timeoutSeconds = base + Math.floor(Math.random() * base);
    arm();
    try {
      const response = await this.client.stream({
        method: "GET",
        path: resourcePath(this.type, this.namespace),
        query: {
          watch: true,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds,
          labelSelector: this.options.labelSelector,
        },
        signal: aborter.signal,
      });
      try {
        response.on("data", arm);
        for await (const event of readWatchEvents(response)) {
          arm();
          if (event.type === "ERROR") throw ApiError.fromStatus(event.object, `watch ${typeId(this.type)}`);
          if (event.type === "BOOKMARK") {
            // A bookmark carries only metadata.resourceVersion (no name): the point to resume from.
            this.resourceVersion = watchBookmark.parse(event.object).metadata.resourceVersion;
            this.stats.bookmarks += 1;
            healthy();
            continue;
          }
          const object = this.keep(kubeObject.parse(event.object));
          if (object.metadata.resourceVersion) this.resourceVersion = object.metadata.resourceVersion;
          healthy();
          this.stats.events += 1;
          if (event.type === "DELETED") this.deleted(object);
          else this.upserted(object);
        }
      } finally {
        response.destroy();
      }
      return "closed";
    } catch (err) {
      if (silent) throw new SilentWatchError(this.options.silenceTimeoutMs);
      throw err;
    } finally {
      if (watchdog) clearTimeout(watchdog);
      stop.removeEventListener("abort", onStop);
    }
  }

  private upserted(object: KubeObject): void {
    const key = objectKey(object.metadata);
    const previous = this.cache.get(key);
    if (previous) {
      const order = compareResourceVersions(
        previous.metadata.resourceVersion,
        object.metadata.resourceVersion,
      );
      // Already have this version (assumed after our own write) or a newer one: nothing new to announce.
      if (order !== undefined && order >= 0) return;
    }
    this.cache.set(key, object);
    this.emit(previous ? { type: "updated", object, previous } : { type: "added", object });
  }

  private deleted(object: KubeObject): void {
    const key = objectKey(object.metadata);
    this.cache.delete(key);
    this.bury(key, object, object.metadata.resourceVersion);
    this.emit({ type: "deleted", object });
  }

  private startResync(): void {
    if (this.options.resyncPeriodMs <= 0 || this.resyncTimer) return;
    this.resyncTimer = setInterval(() => this.resync(), this.options.resyncPeriodMs);
    this.resyncTimer.unref();
  }

  private resync(): void {
    for (const object of this.cache.values()) this.emit({ type: "resync", object });
  }

  private emit(event: InformerEvent): void {
    for (const handler of this.handlers) {
      try {
        handler(event);
      } catch (err) {
        this.log.error({ err }, "Informer handler failed");
      }
    }
  }
}

class SilentWatchError extends Error {
  constructor(ms: number) {
    super(`watch sent nothing for ${ms} ms`);
    this.name = "SilentWatchError";
  }
}
