/** DarwinJob: a Ray job submitted to a DarwinCluster through its Ray Jobs API. */
import { z } from "zod";
import { cel, dnsLabel, keyValue, listMap, matching, statusBase } from "./common.ts";
import { defineKind } from "./kind.ts";

/**
 * Set to "true" on a DarwinJob to stop its Ray job and keep the resource (status STOPPED); deleting the
 * DarwinJob stops it too. An annotation, as the spec is one immutable submission.
 */
export const STOP_ANNOTATION = "darwin.dreamhorizon.org/stop";

export const RAY_JOB_STATUSES = ["PENDING", "RUNNING", "SUCCEEDED", "FAILED", "STOPPED"] as const;

const DarwinJobFields = z
  .object({
    cluster: dnsLabel("Name of the DarwinCluster in the same namespace the job runs on").describe(
      "Name of the DarwinCluster (same namespace) whose Ray head receives the job.",
    ),
    entrypoint: z
      .string()
      .min(1)
      .max(16384)
      .describe("Shell command Ray runs as the job's driver, e.g. python train.py --epochs 3."),
    submissionId: matching(
      z.string().min(1).max(128),
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/,
      "must be letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. train-2024-06-01",
    )
      .optional()
      .describe(
        "Ray submission id, unique on the cluster's head; default darwin-<namespace>-<name>-<first 8 characters of the uid>.",
      ),
    runtimeEnv: z
      .object({
        pip: z
          .array(z.string().min(1).max(256).describe("A pip requirement, e.g. xgboost==2.1.1."))
          .max(256)
          .optional()
          .describe("pip requirements Ray installs for this job (runtime_env.pip)."),
        workingDir: matching(
          z.string().min(1).max(2048),
          /^(s3|gs|https?):\/\/[^\s]+\.zip$/,
          "must be a remote zip archive Ray can fetch: s3://, gs:// or https://, ending in .zip, e.g. https://github.com/org/repo/archive/refs/heads/main.zip",
        )
          .optional()
          .describe(
            "Remote zip of the job's working directory (runtime_env.working_dir): s3://bucket/code.zip or a git host's archive URL.",
          ),
        envVars: listMap(
          z
            .array(keyValue("environment variable"))
            .max(128)
            .optional()
            .describe("Environment of the driver and its workers (runtime_env.env_vars)."),
          "name",
        ),
      })
      .optional()
      .describe("Ray runtime_env of the job: pip packages, working directory and environment variables."),
  })
  .describe("Desired job: the cluster, the entrypoint and its runtime environment.");

export const DarwinJobSpec = cel(DarwinJobFields, {
  rule: "self == oldSelf",
  message: "a DarwinJob is one submission and cannot be changed: create a new DarwinJob",
});

export const DarwinJobStatus = z
  .object({
    jobStatus: z
      .enum(RAY_JOB_STATUSES)
      .optional()
      .describe("Ray's status of the job: PENDING, RUNNING, SUCCEEDED, FAILED or STOPPED."),
    submissionId: z.string().optional().describe("Submission id the job has on the Ray head."),
    message: z.string().optional().describe("Ray's message about the job (the error when it failed)."),
    startTime: z.string().optional().describe("When Ray started the job (RFC 3339)."),
    endTime: z.string().optional().describe("When the job ended (RFC 3339)."),
    logTail: z.string().optional().describe("The last lines of the job's log."),
    dashboardURL: z.string().optional().describe("Ray dashboard the job was submitted to."),
    ...statusBase,
  })
  .describe("Observed state of the Ray job, as Ray reports it.");

export const DarwinJob = defineKind({
  kind: "DarwinJob",
  plural: "darwinjobs",
  singular: "darwinjob",
  shortNames: ["dj"],
  scope: "Namespaced",
  description:
    "DarwinJob is a Ray job submitted to a DarwinCluster's Ray Jobs API; its status mirrors Ray's; the annotation darwin.dreamhorizon.org/stop=true, or deleting it, stops the job.",
  spec: DarwinJobSpec,
  status: DarwinJobStatus,
  maxNameLength: 63,
  printerColumns: [
    { name: "Cluster", type: "string", jsonPath: ".spec.cluster", description: "DarwinCluster." },
    { name: "Status", type: "string", jsonPath: ".status.jobStatus", description: "Ray job status." },
    { name: "Start", type: "date", jsonPath: ".status.startTime", description: "Start time.", priority: 1 },
    { name: "End", type: "date", jsonPath: ".status.endTime", description: "End time.", priority: 1 },
    {
      name: "Submission",
      type: "string",
      jsonPath: ".status.submissionId",
      description: "Ray submission id.",
      priority: 1,
    },
  ],
});
