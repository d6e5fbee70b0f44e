/**
 * Lease-based leader election (coordination.k8s.io/v1), with client-go's rules:
 * - a candidate takes the Lease when it is free, or when its holder has not renewed it for
 *   leaseDuration, measured on the candidate's own clock from when it last saw the Lease change (so
 *   clock skew between machines does not matter);
 * - the leader renews every retryPeriod; if it cannot renew for renewDeadline (< leaseDuration) it stops
 *   leading at once, before anyone else may take the Lease;
 * - on a graceful shutdown the leader releases the Lease, so a successor need not wait.
 * Every write carries the resourceVersion read before it: two candidates cannot both win.
 */
import type { Logger } from "pino";
import { z } from "zod";
import { isConflict, isNotFound } from "./api-error.ts";
import { sleep } from "./backoff.ts";
import { microTime } from "./events.ts";
import type { KubeClient } from "./kube-client.ts";

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Who this candidate is; hostname and a random UUID (run.ts: processIdentity). */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  log: Logger;
  /** Called once when this candidate becomes leader. */
  onStartedLeading: () => void;
  /** Called once when it stops leading (lost the Lease, or stopped). */
  onStoppedLeading: (reason: "lost" | "stopped") => void;
  /** Called with every change of leadership, for metrics. */
  onLeadership?: (leading: boolean) => void;
}

const leaseSpec = z.looseObject({
  holderIdentity: z.string().optional(),
  leaseDurationSeconds: z.number().optional(),
  acquireTime: z.string().optional(),
  renewTime: z.string().optional(),
  leaseTransitions: z.number().optional(),
});
const lease = z.looseObject({
  metadata: z.looseObject({ resourceVersion: z.string().optional() }),
  spec: leaseSpec.optional(),
});
type Lease = z.infer<typeof lease>;

export class LeaderElector {
  private readonly client: KubeClient;
  private readonly options: LeaderElectionOptions;
  private readonly path: string;
  private observedRecord = "";
  private observedAt = 0;
  private leading = false;
  private lastRenewed = 0;

  constructor(client: KubeClient, options: LeaderElectionOptions) {
    this.client = client;
    this.options = options;
    this.path = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases/${options.name}`;
  }

  /**
   * Campaigns until leader, leads until the Lease is lost or `signal` aborts, then returns. On abort while
   * leading, the Lease is released.
   */
  async run(signal: AbortSignal): Promise<void> {
    const { log, retryPeriodMs, renewDeadlineMs } = this.options;
    log.info(
      { lease: `${this.options.namespace}/${this.options.name}`, identity: this.options.identity },
      "Started leader election",
    );
    while (!signal.aborted && !this.leading) {
      if (await this.tryAcquireOrRenew(signal)) break;
      await sleep(retryPeriodMs, signal);
    }
    if (signal.aborted) return;
    this.setLeading(true);
    log.info({ identity: this.options.identity }, "Acquired leadership");
    this.options.onStartedLeading();

    // Renew until a renewal has not succeeded for renewDeadline; a hung request cannot delay that.
    const lost = new AbortController();
    const stopRenewing = AbortSignal.any([signal, lost.signal]);
    let deadline = setTimeout(() => lost.abort(), renewDeadlineMs);
    while (!stopRenewing.aborted) {
      await sleep(retryPeriodMs, stopRenewing);
      if (stopRenewing.aborted) break;
      if (await this.tryAcquireOrRenew(stopRenewing)) {
        clearTimeout(deadline);
        deadline = setTimeout(
          () => lost.abort(),
          Math.max(0, this.lastRenewed + renewDeadlineMs - Date.now()),
        );
      }
    }
    clearTimeout(deadline);
    this.setLeading(false);
    if (signal.aborted) {
      await this.release();
      log.info({ identity: this.options.identity }, "Released leadership");
      this.options.onStoppedLeading("stopped");
    } else {
      log.error(
        { identity: this.options.identity, renewDeadlineMs },
        "Lost leadership: the lease was not renewed in time",
      );
      this.options.onStoppedLeading("lost");
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.options.onLeadership?.(leading);
  }

  /** One attempt to take or keep the Lease; true when this candidate holds it afterwards. */
  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    const { identity, leaseDurationMs, log } = this.options;
    const started = Date.now();
    const now = new Date();
    const durationSeconds = Math.ceil(leaseDurationMs / 1000);
    try {
      let current: Lease;
      try {
        current = lease.parse(
          await this.client.request({
            method: "GET",
            path: this.path,
            signal,
            timeoutMs: this.options.retryPeriodMs * 2,
          }),
        );
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await this.client.request({
          method: "POST",
          path: this.path.slice(0, this.path.lastIndexOf("/")),
          body: {
            apiVersion: "coordination.k8s.io/v1",
            kind: "Lease",
            metadata: { name: this.options.name, namespace: this.options.namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: durationSeconds,
              acquireTime: microTime(now),
              renewTime: microTime(now),
              leaseTransitions: 0,
            },
          },
          signal,
        });
        this.lastRenewed = started;
        return true;
      }
      const spec = current.spec ?? {};
      const record = JSON.stringify(spec);
      if (record !== this.observedRecord) {
        this.observedRecord = record;
        this.observedAt = started;
      }
      const holder = spec.holderIdentity ?? "";
      const heldByOther = holder !== "" && holder !== identity;
      const holderDurationMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
      if (heldByOther && this.observedAt + holderDurationMs > Date.now()) return false;
      const ours = holder === identity;
      const next = {
        holderIdentity: identity,
        leaseDurationSeconds: durationSeconds,
        acquireTime: ours && spec.acquireTime ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      };
      await this.putLease(current, next, signal);
      if (!ours) log.info({ previousHolder: holder || undefined, identity }, "Took over the lease");
      this.lastRenewed = started;
      return true;
    } catch (err) {
      if (signal.aborted) return false;
      if (isConflict(err)) log.debug({ err: String(err) }, "Lease changed meanwhile");
      else log.warn({ err: String(err) }, "Lease update failed");
      return false;
    }
  }

  /** Gives the Lease up (holder cleared, 1 s duration) so a successor takes over at once. */
  private async release(): Promise<void> {
    try {
      const current = lease.parse(await this.client.request({ method: "GET", path: this.path }));
      if (current.spec?.holderIdentity !== this.options.identity) return;
      const now = microTime(new Date());
      await this.putLease(current, {
        ...current.spec,
        holderIdentity: "",
        leaseDurationSeconds: 1,
        renewTime: now,
        acquireTime: now,
      });
    } catch (err) {
      this.options.log.warn(
        { err: String(err) },
        "Lease was not released; a successor waits for it to expire",
      );
    }
  }

  /** Replaces the Lease's spec, if it is still at the version read (409 otherwise). */
  private async putLease(current: Lease, spec: Record<string, unknown>, signal?: AbortSignal): Promise<void> {
    await this.client.request({
      method: "PUT",
      path: this.path,
      body: { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata: { ...current.metadata }, spec },
      signal,
      timeoutMs: this.options.retryPeriodMs * 2,
    });
  }
}
