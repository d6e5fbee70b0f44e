/**
 * Alerts: a cluster running longer than its limit, or costing more per day than its limit, gets a condition
 * (RuntimeLimitExceeded, CostLimitExceeded), a Warning Event and, when the operator has a webhook, one
 * Slack-compatible POST. The condition is the record that the alert fired: it turns True once per breach,
 * and its reason says whether the webhook heard of it (Notified), failed (NotifyFailed, retried on later
 * reconciles) or has none to hear (Exceeded). A breach ends when the cluster stops or comes back under its
 * limit (status False); a later breach alerts again.
 */
import { z } from "zod";
import {
  type Condition,
  type ConditionUpdate,
  findCondition,
  setCondition,
} from "../../operator/conditions.ts";
import type { ReconcileContext } from "../../operator/controller.ts";
import type { JsonObject } from "../../operator/json.ts";
import type { ClusterInput } from "./render/ray-cluster.ts";
import type { DarwinClusterStatus } from "./status.ts";

const limit = (what: string) => z.number().min(0).describe(`${what}; 0 turns the alert off.`);

export const alertsConfig = z
  .strictObject({
    maxRuntimeHours: limit(
      "Hours a cluster may run (since it last became Ready) before it alerts, unless its spec.alerts sets its own",
    ).default(168),
    maxCostPerDay: limit(
      "Cost per day (estimatedCostPerHour x 24, in the capacity classes' currency) above which a cluster alerts, unless its spec.alerts sets its own",
    ).default(0),
    webhookSecret: z
      .strictObject({
        namespace: z.string().min(1).describe("Namespace of the Secret."),
        name: z.string().min(1).describe("Name of the Secret."),
        key: z.string().min(1).default("url").describe("Key holding the webhook URL."),
      })
      .optional()
      .describe(
        "Secret holding a Slack-compatible incoming-webhook URL (POST {text}); alerts are also posted there. None: conditions and Events only.",
      ),
  })
  .default({ maxRuntimeHours: 168, maxCostPerDay: 0 })
  .describe("Long-running and cost alerts on DarwinClusters.");

export type AlertsConfig = z.infer<typeof alertsConfig>;

export const RUNTIME_ALERT = "RuntimeLimitExceeded";
export const COST_ALERT = "CostLimitExceeded";
const ALERT_TYPES = [RUNTIME_ALERT, COST_ALERT] as const;
type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertInput {
  cluster: ClusterInput & { metadata: { generation?: number | undefined } };
  /** The status just computed (phase, Ready, cost), with last reconcile's alert conditions carried over. */
  status: DarwinClusterStatus;
  defaults: Pick<AlertsConfig, "maxRuntimeHours" | "maxCostPerDay">;
  now: Date;
}

export interface AlertDecision {
  conditions: Condition[];
  /** Alerts whose condition turned True now: each gets its Warning Event and a webhook POST. */
  fired: { type: AlertType; message: string }[];
  /** When the runtime limit will be passed, if the cluster runs and has not passed it yet. */
  requeueAfterMs?: number;
}

/** The limits that apply to a cluster: its spec's, else the operator's. */
export function alertLimits(cluster: ClusterInput, defaults: AlertInput["defaults"]) {
  return {
    maxRuntimeHours: cluster.spec.alerts?.maxRuntimeHours ?? defaults.maxRuntimeHours,
    maxCostPerDay: cluster.spec.alerts?.maxCostPerDay ?? defaults.maxCostPerDay,
  };
}

/** Evaluates both limits against the status. Pure. */
export function evaluateAlerts(input: AlertInput): AlertDecision {
  const { cluster, status, now } = input;
  const limits = alertLimits(cluster, input.defaults);
  const name = cluster.metadata.name;
  const ready = findCondition(status.conditions, "Ready");
  const runningSince = ready?.status === "True" ? new Date(ready.lastTransitionTime) : undefined;
  const costPerDay = Number(status.estimatedCostPerHour ?? "0") * 24;
  let conditions = [...(status.conditions ?? [])];
  const fired: AlertDecision["fired"] = [];
  let requeueAfterMs: number | undefined;

  const judge = (type: AlertType, on: boolean, over: boolean, overMessage: string, underMessage: string) => {
    if (!on) {
      conditions = conditions.filter((c) => c.type !== type);
      return;
    }
    const before = findCondition(conditions, type);
    const wasOver = before?.status === "True";
    // An ongoing breach keeps its condition as it was when it fired (its reason is the notification's
    // state): a cost or a duration moving on would otherwise rewrite the status on every reconcile.
    if (over && wasOver) return;
    const update: ConditionUpdate = over
      ? { type, status: "True", reason: "Exceeded", message: overMessage }
      : { type, status: "False", reason: "WithinLimit", message: underMessage };
    conditions = setCondition(conditions, update, {
      now,
      observedGeneration: cluster.metadata.generation,
    });
    if (over) fired.push({ type, message: overMessage });
  };

  const limitMs = limits.maxRuntimeHours * 3_600_000;
  const ranMs = runningSince ? now.getTime() - runningSince.getTime() : 0;
  judge(
    RUNTIME_ALERT,
    limits.maxRuntimeHours > 0,
    runningSince !== undefined && ranMs >= limitMs,
    `Cluster ${name} has been running since ${ready?.lastTransitionTime}, longer than its limit of ${limits.maxRuntimeHours} h; stop it (spec.suspend: true) or raise spec.alerts.maxRuntimeHours.`,
    `Cluster ${name} is within its runtime limit of ${limits.maxRuntimeHours} h.`,
  );
  // Capped: a timer beyond 2^31 ms (about 24 days) would fire at once.
  if (limits.maxRuntimeHours > 0 && runningSince && ranMs < limitMs)
    requeueAfterMs = Math.min(limitMs - ranMs, MAX_REQUEUE_MS);
  judge(
    COST_ALERT,
    limits.maxCostPerDay > 0,
    costPerDay > limits.maxCostPerDay,
    `Cluster ${name} costs ${costPerDay.toFixed(2)} per day (${status.estimatedCostPerHour} per hour), more than its limit of ${limits.maxCostPerDay} per day; shrink its worker groups, use spot capacity, or raise spec.alerts.maxCostPerDay.`,
    `Cluster ${name} costs ${costPerDay.toFixed(2)} per day, within its limit of ${limits.maxCostPerDay}.`,
  );
  return { conditions, fired, ...(requeueAfterMs !== undefined && { requeueAfterMs }) };
}

const MAX_REQUEUE_MS = 6 * 3_600_000;

/** The alert conditions of a status that are True and whose webhook has not heard of them yet. */
export function unnotifiedAlerts(conditions: readonly Condition[] | undefined): Condition[] {
  return (conditions ?? []).filter(
    (c) =>
      (ALERT_TYPES as readonly string[]).includes(c.type) &&
      c.status === "True" &&
      (c.reason === "Exceeded" || c.reason === "NotifyFailed"),
  );
}

/** The body of a Slack incoming webhook (also understood by Mattermost, Rocket.Chat, Teams workflows). */
export function webhookMessage(cluster: ClusterInput, alert: Condition): { text: string } {
  const namespace = cluster.metadata.namespace ?? "default";
  const what = alert.type === RUNTIME_ALERT ? "running too long" : "over its cost limit";
  return {
    text: `:warning: DarwinCluster ${namespace}/${cluster.metadata.name} is ${what}. ${alert.message} (owner: ${cluster.spec.owner})`,
  };
}

const SecretView = z.looseObject({ data: z.record(z.string(), z.string()).optional() });

/** The webhook URL from the configured Secret. Throws with a message naming the Secret and key. */
export async function webhookURL(
  ctx: ReconcileContext,
  secret: NonNullable<AlertsConfig["webhookSecret"]>,
): Promise<string> {
  const where = `Secret ${secret.namespace}/${secret.name}`;
  const object = await ctx.client
    .requestObject({
      method: "GET",
      path: `/api/v1/namespaces/${encodeURIComponent(secret.namespace)}/secrets/${encodeURIComponent(secret.name)}`,
    })
    .catch((error: Error) => {
      throw new Error(`${where} could not be read: ${error.message}`);
    });
  const encoded = SecretView.parse(object).data?.[secret.key];
  if (!encoded) throw new Error(`${where} has no key "${secret.key}" holding the webhook URL`);
  const url = Buffer.from(encoded, "base64").toString("utf8").trim();
  // The URL is a credential: never echo it into a condition or log.
  if (!/^https?:\/\/\S+$/.test(url))
    throw new Error(`${where} key "${secret.key}" is not an http(s) URL; set it to the webhook URL`);
  return url;
}

/** POSTs the alert; throws with the receiver's answer (never the URL). */
export async function postAlert(url: string, body: { text: string }): Promise<void> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  }).catch((error: Error) => {
    throw new Error(
      `the webhook could not be reached: ${error.cause instanceof Error ? error.cause.message : error.message}`,
    );
  });
  if (!response.ok) {
    const answer = (await response.text().catch(() => "")).slice(0, 200);
    throw new Error(`the webhook answered ${response.status}${answer ? `: ${answer}` : ""}`);
  }
}

/**
 * The reconciler's step after the status (with the alert conditions) is written: a Warning Event for each
 * alert that fired, then one POST for each alert the webhook has not heard of, its outcome written back
 * as the condition's reason. The status is written before the POST, so two reconciles that raced on a
 * stale copy cannot both post: the loser's status write fails on its resourceVersion first.
 */
export async function notifyAlerts(
  ctx: ReconcileContext,
  cluster: ClusterInput,
  status: DarwinClusterStatus,
  fired: AlertDecision["fired"],
  config: AlertsConfig,
): Promise<{ retryAfterMs?: number }> {
  for (const alert of fired) {
    ctx.event({ type: "Warning", reason: alert.type, action: "Alert", note: alert.message });
    ctx.log.info({ alert: alert.type }, "Raised cluster alert");
  }
  const secret = config.webhookSecret;
  const pending = unnotifiedAlerts(status.conditions);
  if (!secret || pending.length === 0) return {};
  let conditions = status.conditions;
  let failed = false;
  const now = ctx.now();
  const generation = ctx.object.metadata.generation;
  for (const alert of pending) {
    let outcome: ConditionUpdate;
    try {
      await postAlert(await webhookURL(ctx, secret), webhookMessage(cluster, alert));
      outcome = { type: alert.type, status: "True", reason: "Notified", message: alert.message };
      ctx.log.info({ alert: alert.type }, "Posted cluster alert to the webhook");
    } catch (error) {
      failed = true;
      const reason = error instanceof Error ? error.message : String(error);
      outcome = {
        type: alert.type,
        status: "True",
        reason: "NotifyFailed",
        message: `${alert.message.replace(/ The alert webhook was not notified.*$/, "")} The alert webhook was not notified (retried): ${reason}.`,
      };
      if (alert.reason !== "NotifyFailed")
        ctx.event({ type: "Warning", reason: "AlertNotifyFailed", action: "Alert", note: reason });
      ctx.log.warn({ alert: alert.type, error: reason }, "Failed to post cluster alert");
    }
    conditions = setCondition(conditions, outcome, { now, observedGeneration: generation });
  }
  await ctx.updateStatus({ ...status, conditions } as JsonObject);
  return failed ? { retryAfterMs: NOTIFY_RETRY_MS } : {};
}

/** How soon a failed webhook POST is tried again. */
const NOTIFY_RETRY_MS = 60_000;
