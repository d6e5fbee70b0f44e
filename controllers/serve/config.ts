/**
 * The operator configuration's `serving` section: Darwin's default model server, the MLflow that resolves
 * model URIs, how often an alias is checked and how long a rollout may take.
 */
import { z } from "zod";

const seconds = (what: string) => z.number().positive().describe(`${what}, in seconds (fractions allowed).`);

export const servingConfig = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .default("ghcr.io/mlflow/mlflow:v3.17.2-full")
      .describe(
        "Image of the default model server (MLflow's, with python and the mlflow CLI); a Serve's image or artifactBuildRef replaces it.",
      ),
    rayImage: z
      .string()
      .min(1)
      .default("rayproject/ray:2.37.0-py310")
      .describe(
        "Ray image of a ray-serve Serve's RayService (Ray Serve installs mlflow into its runtime_env).",
      ),
    rayVersion: z.string().min(1).default("2.37.0").describe("Ray version of rayImage."),
    mlflowTrackingURI: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe("MLflow that resolves model URIs when the ServeEnvironment names none (DARWIN_MLFLOW_URL)."),
    modelCheckIntervalSeconds: seconds(
      "How often a Serve following an alias (models:/name@alias) checks whether it moved",
    ).default(60),
    rolloutDeadlineSeconds: z
      .number()
      .int()
      .min(1)
      .default(600)
      .describe(
        "A rollout not available within this many seconds fails; the previous revision keeps serving.",
      ),
  })
  .prefault({})
  .describe("Model serving: the default model server, MLflow, alias checks and rollout deadline.");

export type ServingConfig = z.infer<typeof servingConfig>;

/** The settings when the configuration sets none. */
export const DEFAULT_SERVING: ServingConfig = servingConfig.parse(undefined);
