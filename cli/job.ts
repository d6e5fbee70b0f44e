/**
 * hermes's Ray job commands over DarwinJob: `job submit` applies one and waits for Ray's verdict, `job logs`
 * prints (and with -f follows) the job's whole log from its cluster's Ray dashboard, `job stop` asks the
 * operator to stop it (the stop annotation) and waits until Ray says STOPPED.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { z } from "zod";
import { headServiceName } from "../controllers/darwin-cluster/render/ray-cluster.ts";
import { apiserverProxyHttp } from "../controllers/shared/cluster-http.ts";
import { RayDashboardClient, RayDashboardError } from "../controllers/shared/ray-dashboard.ts";
import { STOP_ANNOTATION } from "../crds/src/darwin-job.ts";
import { API_VERSION, DarwinJob } from "../crds/src/index.ts";
import type { KubeClient } from "../operator/kube-client.ts";
import type { KubeObject } from "../operator/resource.ts";
import { applyResource, DARWIN_CLUSTERS, DARWIN_JOBS, getResource, mergePatch } from "./kube.ts";
import { EXIT, type Verdict, waitFor } from "./wait.ts";

/** What the job commands need from the program that holds them. */
export interface JobCommandContext {
  io: { stdout: { write(text: string): unknown }; stderr: { write(text: string): unknown } };
  kube: () => KubeClient;
  defaultNamespace: () => string;
  setExit: (code: number) => void;
  withOutput: (c: Command) => Command;
  withWait: (c: Command) => Command;
  example: (c: Command, text: string) => Command;
  nameArg: (flag: string) => (value: string) => string;
  checkSpec: (schema: z.ZodType, spec: unknown) => void;
  printManifests: (objects: KubeObject[], format: string) => void;
  usageError: (message: string) => Error;
}

const ENDED = new Set(["SUCCEEDED", "FAILED", "STOPPED"]);

const JobView = z.looseObject({
  spec: z.looseObject({ cluster: z.string() }),
  status: z
    .looseObject({
      jobStatus: z.string().optional(),
      submissionId: z.string().optional(),
      message: z.string().optional(),
      logTail: z.string().optional(),
      conditions: z
        .array(z.looseObject({ type: z.string(), reason: z.string(), message: z.string() }))
        .optional(),
    })
    .optional(),
});

/** Ray's verdict on a DarwinJob: SUCCEEDED is done; FAILED and STOPPED failed; a bad spec failed. */
export function judgeJob(want: "SUCCEEDED" | "STOPPED") {
  return (object: KubeObject | undefined): Verdict => {
    if (!object) return { state: "failed", text: "the job is gone" };
    const name = object.metadata.name;
    const status = JobView.safeParse(object).data?.status;
    const jobStatus = status?.jobStatus;
    const ready = status?.conditions?.find((c) => c.type === "Ready");
    if (jobStatus === want) return { state: "done", text: `${name}: ${jobStatus}` };
    if (jobStatus && ENDED.has(jobStatus))
      return {
        state: "failed",
        text: `${name}: ${jobStatus}${status?.message ? `: ${status.message}` : ""}`,
      };
    if (ready?.reason === "InvalidSpec") return { state: "failed", text: `${name}: ${ready.message}` };
    return {
      state: "waiting",
      text: `${name}: ${jobStatus ?? ready?.reason ?? "waiting for the operator"}${ready?.message ? `: ${ready.message}` : ""}`,
    };
  };
}

function keyValueArg(value: string, previous: { name: string; value: string }[] = []) {
  const at = value.indexOf("=");
  if (at <= 0) throw new InvalidArgumentError("--env must be NAME=VALUE, e.g. --env EPOCHS=3.");
  return [...previous, { name: value.slice(0, at), value: value.slice(at + 1) }];
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The job's whole log: from a dashboard URL, else through the apiserver's proxy to the head Service. */
async function readLogs(
  kube: KubeClient,
  namespace: string,
  cluster: string,
  submissionId: string,
  dashboard: string | undefined,
): Promise<string | undefined> {
  const url = dashboard ?? `http://${headServiceName(cluster)}.${namespace}.svc:8265`;
  try {
    return await new RayDashboardClient(url, apiserverProxyHttp(kube)).jobLogs(submissionId);
  } catch (error) {
    // The head does not know the job: its Ray restarted (a suspended and resumed cluster, a new head pod)
    // since the job was submitted.
    if (error instanceof RayDashboardError && error.status === 404) return undefined;
    throw error;
  }
}

export function addJobCommands(program: Command, c: JobCommandContext): void {
  const job = program
    .command("job")
    .description("Ray jobs (DarwinJob) on a DarwinCluster: submit, follow the log, stop");
  const ns = (flag: string | undefined) => flag ?? c.defaultNamespace();
  const nsOption = (command: Command) =>
    command.option(
      "-n, --namespace <name>",
      "namespace of the job and its cluster (default: hermes configure's, else default)",
      c.nameArg("--namespace"),
    );
  const liveJob = async (namespace: string, name: string) => {
    const live = await getResource(c.kube(), DARWIN_JOBS, namespace, name);
    if (!live)
      throw c.usageError(
        `<name>: DarwinJob ${name} does not exist in namespace ${namespace} (kubectl get darwinjobs -n ${namespace})`,
      );
    return live;
  };
  const waitJob = async (
    opts: { wait: boolean; timeout: number },
    namespace: string,
    name: string,
    want: "SUCCEEDED" | "STOPPED",
  ) => {
    if (!opts.wait) return;
    const result = await waitFor({
      client: c.kube(),
      kind: DARWIN_JOBS,
      namespace,
      name,
      timeoutSeconds: opts.timeout,
      judge: judgeJob(want),
      stream: c.io.stderr as NodeJS.WriteStream,
    });
    c.setExit(result.code);
  };

  c.example(
    c
      .withWait(
        c.withOutput(
          nsOption(
            job
              .command("submit")
              .description(
                "Submit a Ray job (a DarwinJob) to a cluster and wait until it ends: exit 0 SUCCEEDED, 1 FAILED or STOPPED",
              )
              .requiredOption("--cluster <name>", "DarwinCluster that runs the job", c.nameArg("--cluster"))
              .option("--name <name>", "DarwinJob name (default: <cluster>-<time>)", c.nameArg("--name"))
              .option("--pip <requirement>", "pip requirement Ray installs for the job (repeatable)", collect)
              .option("--working-dir <url>", "remote zip of the working directory (s3://, gs://, https://)")
              .option("--env <NAME=VALUE>", "environment variable of the job (repeatable)", keyValueArg)
              .option("--submission-id <id>", "Ray submission id (default: derived from the job)")
              .argument("<entrypoint...>", "command Ray runs as the driver; put it after --"),
          ),
        ),
      )
      .action(async (entrypoint: string[], opts) => {
        const namespace = ns(opts.namespace);
        const name: string = opts.name ?? `${opts.cluster}-${Date.now().toString(36)}`.slice(0, 63);
        const runtimeEnv = {
          ...(opts.pip && { pip: opts.pip as string[] }),
          ...(opts.workingDir && { workingDir: opts.workingDir as string }),
          ...(opts.env && { envVars: opts.env as { name: string; value: string }[] }),
        };
        const spec = {
          cluster: opts.cluster as string,
          entrypoint: entrypoint.join(" "),
          ...(opts.submissionId && { submissionId: opts.submissionId as string }),
          ...(Object.keys(runtimeEnv).length > 0 && { runtimeEnv }),
        };
        c.checkSpec(DarwinJob.spec, spec);
        const object: KubeObject = {
          apiVersion: API_VERSION,
          kind: DarwinJob.kind,
          metadata: { name, namespace },
          spec,
        };
        if (opts.dryRun) return c.printManifests([object], opts.output);
        if (!(await getResource(c.kube(), DARWIN_CLUSTERS, namespace, spec.cluster)))
          throw c.usageError(
            `--cluster: DarwinCluster ${spec.cluster} does not exist in namespace ${namespace} (hermes cluster list -n ${namespace})`,
          );
        await applyResource(c.kube(), DARWIN_JOBS, object);
        c.io.stdout.write(`darwinjob/${name} submitted in namespace ${namespace}\n`);
        await waitJob(opts, namespace, name, "SUCCEEDED");
      }),
    "hermes job submit --cluster housing-project -n team-a --pip xgboost==2.1.1 -- python train.py --epochs 3",
  );

  c.example(
    nsOption(
      job
        .command("logs")
        .description("Print a job's log from its cluster's Ray dashboard; -f follows it until the job ends")
        .argument("<name>", "DarwinJob name")
        .option("-f, --follow", "keep printing new lines until the job ends (exit 0 SUCCEEDED, else 1)")
        .addOption(
          new Option(
            "--dashboard <url>",
            "Ray dashboard URL to read from (default: through the apiserver's proxy to the cluster's head Service)",
          ),
        ),
    ).action(async (name: string, opts) => {
      const namespace = ns(opts.namespace);
      let printed = 0;
      let forgotten = false;
      for (;;) {
        const view = JobView.parse(await liveJob(namespace, name));
        const jobStatus = view.status?.jobStatus;
        const submissionId = view.status?.submissionId;
        if (submissionId && jobStatus) {
          const logs = await readLogs(c.kube(), namespace, view.spec.cluster, submissionId, opts.dashboard);
          if (logs !== undefined) {
            // Ray's log only grows; print what is new since the last read.
            c.io.stdout.write(logs.slice(logs.length >= printed ? printed : 0));
            printed = logs.length;
          } else if (!forgotten && jobStatus && ENDED.has(jobStatus)) {
            forgotten = true;
            c.io.stderr.write(
              `${name}: the Ray of cluster ${view.spec.cluster} no longer has this job (it restarted since the job ran); the last lines the DarwinJob kept:\n`,
            );
            c.io.stdout.write(view.status?.logTail ?? "");
          } else if (!opts.follow) {
            throw new Error(
              `the Ray of cluster ${view.spec.cluster} does not know job ${submissionId}: it restarted since the job was submitted; the operator submits it again (kubectl get darwinjob ${name} -n ${namespace})`,
            );
          }
        } else if (!opts.follow) {
          throw c.usageError(`<name>: DarwinJob ${name} has not been submitted to Ray yet; try -f to wait`);
        }
        if (!opts.follow) return;
        if (jobStatus && ENDED.has(jobStatus)) {
          c.io.stderr.write(
            `${name}: ${jobStatus}${view.status?.message ? `: ${view.status.message}` : ""}\n`,
          );
          c.setExit(jobStatus === "SUCCEEDED" ? EXIT.ok : EXIT.failed);
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }),
    "hermes job logs train-1 -n team-a -f",
  );

  c.example(
    c
      .withWait(
        nsOption(
          job
            .command("stop")
            .description(
              "Stop a running job (the DarwinJob stays, with Ray's STOPPED) and wait until Ray stopped it",
            )
            .argument("<name>", "DarwinJob name"),
        ),
      )
      .action(async (name: string, opts) => {
        const namespace = ns(opts.namespace);
        const jobStatus = JobView.parse(await liveJob(namespace, name)).status?.jobStatus;
        if (jobStatus && ENDED.has(jobStatus)) {
          c.io.stdout.write(`darwinjob/${name} already ended: ${jobStatus}\n`);
          return;
        }
        await mergePatch(c.kube(), DARWIN_JOBS, namespace, name, {
          metadata: { annotations: { [STOP_ANNOTATION]: "true" } },
        });
        c.io.stdout.write(`darwinjob/${name} stopping\n`);
        await waitJob(opts, namespace, name, "STOPPED");
      }),
    "hermes job stop train-1 -n team-a",
  );
}
