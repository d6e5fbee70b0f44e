/**
 * The registration API controllers plug into. A controller declares the kind it reconciles, the child
 * kinds it owns and a level-based reconcile function; the manager builds the informers, the work queue
 * and the workers, adds and removes the finalizer around `finalize`, and turns errors into retries,
 * conditions and Events:
 *
 *   export const featureGroupController: ControllerDefinition = {
 *     name: "featuregroup",
 *     for: darwinResource(FeatureGroup),
 *     owns: [CONFIG_MAPS],
 *     async reconcile(ctx) { ...; return { requeueAfterMs: 60_000 }; },
 *     async finalize(ctx) { ... drop the table ... },
 *   };
 */
import type { Logger } from "pino";
import type { ApplyResult } from "./apply.ts";
import type { EventInput } from "./events.ts";
import type { CacheTransform } from "./informer.ts";
import type { JsonObject } from "./json.ts";
import type { KubeClient } from "./kube-client.ts";
import type { PolicyRule } from "./rbac.ts";
import type { KubeObject, ResourceType } from "./resource.ts";

/**
 * An error retrying cannot fix (an invalid spec, a missing referenced object the user must create). It is
 * not retried: it sets Ready=False with its reason and message, and records a Warning Event. The next
 * change to the object (or one of its children) reconciles it again.
 */
export class TerminalError extends Error {
  /** CamelCase reason for the condition and the Event, e.g. InvalidSpec. */
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.name = "TerminalError";
    this.reason = reason;
  }
}

export interface ReconcileResult {
  /** Reconcile again after this long even without a change (polling something outside Kubernetes). */
  requeueAfterMs?: number;
}

/** What a reconcile gets: the object, and operations bound to it. */
export interface ReconcileContext {
  /** A private copy of the object as cached; after updateStatus() it is the written version. */
  readonly object: KubeObject;
  /** Logger with kind, namespace and name. */
  readonly log: Logger;
  /** Aborted when the operator stops or loses leadership: stop and return (or throw) soon. */
  readonly signal: AbortSignal;
  readonly client: KubeClient;
  now(): Date;
  /**
   * Server-side applies a child controlled by the object (namespace defaults to the object's), with the
   * label app.kubernetes.io/managed-by=darwin-operator (the owned kinds' caches hold only objects with
   * it). Sends nothing when the live child already carries exactly these fields.
   */
  apply(type: ResourceType, desired: KubeObject): Promise<ApplyResult>;
  /**
   * Applies a child whose desired state depends on the live one (a value another controller owns inside
   * a list the apply replaces whole, such as the autoscaler's replicas in KubeRay's workerGroupSpecs):
   * `render` gets the cached child (undefined if there is none) and the apply carries that copy's
   * resourceVersion as a precondition, so a stale copy can never overwrite a newer value. On 409 Conflict
   * it reads the child from the server and renders and applies again (3 attempts, then the conflict is
   * thrown and the reconcile retried). Sends nothing when the live child already carries these fields.
   */
  applyFromLive(
    type: ResourceType,
    name: string,
    render: (live: KubeObject | undefined) => KubeObject,
  ): Promise<ApplyResult>;
  /** Writes `status` to the /status subresource when it differs from the live status; true when written. */
  updateStatus(status: JsonObject): Promise<boolean>;
  /** Records an Event about the object (events.k8s.io/v1; repeats are folded into a series). */
  event(input: EventInput): void;
  /** A cached object of a kind this controller watches (its own kind, an owned kind or a watched kind). */
  cached(type: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined;
  /**
   * Cached objects of a kind this controller watches, in one namespace or all; copies. No request: a kind
   * that is not cached (not `for`, `owns` or `watches`) is a programming error and throws.
   */
  list(type: ResourceType, namespace?: string): KubeObject[];
  /**
   * Deletes an object (background propagation), with the uid as precondition when given, so a newer
   * object of the same name is never removed. False when it was already gone.
   */
  delete(type: ResourceType, namespace: string | undefined, name: string, uid?: string): Promise<boolean>;
}

/**
 * A relation that is not ownership: an event of `type` wakes the objects `map` names (work-queue keys,
 * "namespace/name" or "name"). For example a DarwinRuntime wakes the clusters that use it, a
 * ServeEnvironment its Serves. `map` gets the object as cached (for a deletion its last known state; for
 * an update it is called with the previous state too) and can read the caches, e.g. the reconciled kind's.
 */
export interface Watch {
  type: ResourceType;
  /**
   * Cache only the objects this label selector matches (e.g. the head pods of Darwin's Ray clusters), for a
   * kind of which the cluster holds many more than the controller reads. @default every object
   */
  labelSelector?: string;
  map(object: KubeObject, cache: CacheReader): string[];
}

/** Read access to the manager's caches (copies are not made: do not change what it returns). */
export interface CacheReader {
  /** Cached objects of a type, in one namespace or all; empty when the type is not cached. */
  list(type: ResourceType, namespace?: string): readonly KubeObject[];
}

/** What the caches keep of one kind's objects (see ControllerDefinition.cacheTransforms). */
export interface CacheTransformFor {
  type: ResourceType;
  transform: CacheTransform;
}

export interface ControllerDefinition {
  /** Unique, lower-case; labels metrics and logs and names the finalizer (`<finalizerPrefix>/<name>`). */
  name: string;
  /** The kind reconciled; its events enqueue the object itself. */
  for: ResourceType;
  /**
   * Child kinds created with ctx.apply(); their events enqueue the owner named by their controller
   * reference. Their caches hold only objects labelled app.kubernetes.io/managed-by=darwin-operator.
   */
  owns?: ResourceType[];
  /**
   * Other kinds whose changes wake objects of this kind (not ownership; see Watch); cached whole, or only
   * what the watch's labelSelector matches.
   */
  watches?: Watch[];
  /**
   * Permissions beyond what the runtime derives from `for`, `owns` and `watches` (see rbac.ts
   * controllerRules): e.g. reading Secrets a reconcile fetches with ctx.client. The generated RBAC
   * (npm run gen:rbac) grants exactly the derived rules plus these.
   */
  rbac?: PolicyRule[];
  /**
   * Per kind this controller reads (`for`, `owns` or `watches`), what its cache keeps: a function of the
   * object that drops what no reader needs (a large status field nobody reads), so memory does not grow
   * with it. It must keep what isApplied() compares (the fields this operator applies) and whatever every
   * controller reading the kind uses: two controllers giving different transforms for one kind is an
   * error at registration. The runtime already drops the managedFields entries it does not read.
   */
  cacheTransforms?: CacheTransformFor[];
  /** Concurrent reconciles (of different objects); the operator config's `workers` by default. */
  workers?: number;
  /** Brings the world in line with the object; idempotent, acting on what it reads now. */
  reconcile(ctx: ReconcileContext): Promise<ReconcileResult | undefined>;
  /**
   * Cleans up what lives outside Kubernetes. When present, the manager adds the finalizer before the first
   * reconcile and, once the object is being deleted, calls this and removes the finalizer only after it
   * succeeded. A failure keeps the finalizer, sets Ready=False (CleanupFailed) and records a Warning Event.
   */
  finalize?(ctx: ReconcileContext): Promise<void>;
  /** Default: `<finalizerPrefix>/<name>`, the prefix given to the manager (run.ts: RunOptions). */
  finalizerName?: string;
}
