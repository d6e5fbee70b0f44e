/**
 * Kubernetes Events (events.k8s.io/v1) about the objects the operator manages, so `kubectl describe` and
 * `kubectl events` say what happened. Repeats of the same event (same object, type, reason, action, note)
 * within six minutes become a series: one Event whose series.count grows, written at most every
 * `seriesFlushMs`, so a retrying failure does not flood etcd.
 */
import type { Logger } from "pino";
import { isNotFound } from "./api-error.ts";
import type { KubeClient } from "./kube-client.ts";
import type { KubeObject } from "./resource.ts";

export type EventType = "Normal" | "Warning";

export interface EventInput {
  type: EventType;
  /** CamelCase, why the action was taken, e.g. CleanupFailed. */
  reason: string;
  /** CamelCase, what was done or failed, e.g. Reconcile, Cleanup. */
  action: string;
  /** A sentence for a person (up to 1 KiB). */
  note: string;
}

export interface EventRecorderOptions {
  /** reportingController, e.g. darwin-operator. */
  controller: string;
  /** reportingInstance: the pod (or process) name. */
  instance: string;
  log: Logger;
  /** Minimum time between two writes of one series. Default 10 s. */
  seriesFlushMs?: number;
}

const SERIES_WINDOW_MS = 6 * 60_000;
const EVENTS_PATH = (namespace: string) => `/apis/events.k8s.io/v1/namespaces/${namespace}/events`;

interface Series {
  name: string;
  namespace: string;
  count: number;
  lastObserved: Date;
  lastWritten: number;
  /** The write chain: a series update waits for the create. */
  writing: Promise<void>;
  flushTimer: NodeJS.Timeout | undefined;
  body: Record<string, unknown>;
}

/** MicroTime wire format: RFC 3339 with microseconds. */
export function microTime(date: Date): string {
  return date.toISOString().replace(/Z$/, "000Z");
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly options: EventRecorderOptions;
  private readonly series = new Map<string, Series>();
  private sequence = 0;

  constructor(client: KubeClient, options: EventRecorderOptions) {
    this.client = client;
    this.options = options;
  }

  /** Records an event about `regarding`; never throws (a lost event is logged, not fatal). */
  record(regarding: KubeObject, input: EventInput): void {
    const now = new Date();
    const note = input.note.length > 1024 ? `${input.note.slice(0, 1021)}...` : input.note;
    const key = [regarding.metadata.uid, input.type, input.reason, input.action, note].join("\u0000");
    const existing = this.series.get(key);
    if (existing && now.getTime() - existing.lastObserved.getTime() < SERIES_WINDOW_MS) {
      existing.count += 1;
      existing.lastObserved = now;
      this.scheduleFlush(existing);
      return;
    }
    this.sweep(now);
    const namespace = regarding.metadata.namespace || "default";
    const name = `${regarding.metadata.name.slice(0, 200)}.${(now.getTime() * 1000 + (this.sequence++ % 1000)).toString(16)}`;
    const body = {
      apiVersion: "events.k8s.io/v1",
      kind: "Event",
      metadata: { name, namespace },
      eventTime: microTime(now),
      type: input.type,
      reason: input.reason.slice(0, 128),
      action: input.action.slice(0, 128),
      note,
      reportingController: this.options.controller,
      reportingInstance: this.options.instance.slice(0, 128),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace: regarding.metadata.namespace,
        uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    const series: Series = {
      name,
      namespace,
      count: 1,
      lastObserved: now,
      lastWritten: now.getTime(),
      writing: Promise.resolve(),
      flushTimer: undefined,
      body,
    };
    this.series.set(key, series);
    series.writing = this.create(series);
  }

  /** Waits for pending writes, writing series updates that were waiting for their flush interval. */
  async flush(): Promise<void> {
    for (const series of this.series.values()) {
      if (series.flushTimer) {
        clearTimeout(series.flushTimer);
        series.flushTimer = undefined;
        series.writing = series.writing.then(() => this.updateSeries(series));
      }
    }
    await Promise.all([...this.series.values()].map((s) => s.writing));
  }

  private scheduleFlush(series: Series): void {
    if (series.flushTimer) return;
    const wait = Math.max(0, series.lastWritten + (this.options.seriesFlushMs ?? 10_000) - Date.now());
    series.flushTimer = setTimeout(() => {
      series.flushTimer = undefined;
      series.writing = series.writing.then(() => this.updateSeries(series));
    }, wait);
    series.flushTimer.unref();
  }

  private async create(series: Series): Promise<void> {
    try {
      await this.client.request({ method: "POST", path: EVENTS_PATH(series.namespace), body: series.body });
    } catch (err) {
      this.options.log.warn({ err: String(err), event: series.name }, "Event was not recorded");
    }
  }

  private async updateSeries(series: Series): Promise<void> {
    series.lastWritten = Date.now();
    const patch = { series: { count: series.count, lastObservedTime: microTime(series.lastObserved) } };
    try {
      await this.client.request({
        method: "PATCH",
        path: `${EVENTS_PATH(series.namespace)}/${series.name}`,
        contentType: "application/merge-patch+json",
        body: patch,
      });
    } catch (err) {
      if (isNotFound(err)) {
        // Events expire (1 h by default); start the series again.
        series.body = { ...series.body, ...patch };
        await this.create(series);
        return;
      }
      this.options.log.warn({ err: String(err), event: series.name }, "Event series was not updated");
    }
  }

  /** Forgets series that ended, so the map does not grow without bound. */
  private sweep(now: Date): void {
    for (const [key, series] of this.series) {
      if (!series.flushTimer && now.getTime() - series.lastObserved.getTime() > SERIES_WINDOW_MS) {
        this.series.delete(key);
      }
    }
  }
}
