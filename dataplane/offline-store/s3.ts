/**
 * S3 as the offline store and the populator use it: the endpoint and credentials from DARWIN_S3_*, s3://
 * URIs, and objects moved to and from local files. DuckDB reads and writes only those local files: its
 * httpfs extension (s3:// in SQL) is not part of the npm package and would be downloaded at run time.
 */
import { createWriteStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { z } from "zod";

export const s3Config = z
  .strictObject({
    endpoint: z.url().optional().describe("S3 endpoint URL; AWS's when unset."),
    region: z.string().min(1).default("us-east-1").describe("S3 region."),
    accessKeyId: z.string().min(1).optional().describe("Access key; the SDK's default chain when unset."),
    secretAccessKey: z.string().min(1).optional().describe("Secret key, with accessKeyId."),
    forcePathStyle: z.boolean().default(true).describe("Path-style addressing (needed by most non-AWS S3)."),
  })
  .describe("The S3 service holding the offline store and Parquet inputs.");
export type S3Config = z.infer<typeof s3Config>;

/** The S3 settings from DARWIN_S3_ENDPOINT, _REGION, _ACCESS_KEY_ID, _SECRET_ACCESS_KEY. */
export function s3ConfigFromEnv(env: Record<string, string | undefined> = process.env): S3Config {
  const parsed = s3Config.safeParse({
    ...(env.DARWIN_S3_ENDPOINT && { endpoint: env.DARWIN_S3_ENDPOINT }),
    ...(env.DARWIN_S3_REGION && { region: env.DARWIN_S3_REGION }),
    ...(env.DARWIN_S3_ACCESS_KEY_ID && { accessKeyId: env.DARWIN_S3_ACCESS_KEY_ID }),
    ...(env.DARWIN_S3_SECRET_ACCESS_KEY && { secretAccessKey: env.DARWIN_S3_SECRET_ACCESS_KEY }),
  });
  if (parsed.success) return parsed.data;
  const names: Record<string, string> = {
    endpoint: "DARWIN_S3_ENDPOINT",
    region: "DARWIN_S3_REGION",
    accessKeyId: "DARWIN_S3_ACCESS_KEY_ID",
    secretAccessKey: "DARWIN_S3_SECRET_ACCESS_KEY",
  };
  throw new Error(
    parsed.error.issues
      .map((i) => `${names[String(i.path[0])] ?? i.path.join(".")}: ${i.message}`)
      .join("; "),
  );
}

export function s3Client(config: S3Config): S3Client {
  return new S3Client({
    ...(config.endpoint && { endpoint: config.endpoint }),
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    ...(config.accessKeyId && {
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey ?? "" },
    }),
  });
}

export interface S3Location {
  bucket: string;
  /** Key, or key prefix, without a leading '/'. */
  key: string;
}

const S3_URI = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/;

/** The bucket and key of an s3:// URI, or undefined when `uri` is not one. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = S3_URI.exec(uri);
  if (!match?.[1]) return undefined;
  return { bucket: match[1], key: match[2] ?? "" };
}

export const s3Uri = (location: S3Location) => `s3://${location.bucket}/${location.key}`;

/** Copies an object to a local file. */
export async function downloadObject(s3: S3Client, from: S3Location, to: string): Promise<void> {
  const answer = await s3.send(new GetObjectCommand({ Bucket: from.bucket, Key: from.key }));
  if (!answer.Body) throw new Error(`${s3Uri(from)} has no body`);
  await pipeline(answer.Body as NodeJS.ReadableStream, createWriteStream(to));
}

/** Copies a local file to an object. */
export async function uploadFile(s3: S3Client, from: string, to: S3Location): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: to.bucket, Key: to.key, Body: await readFile(from) }));
}

/** Creates the bucket unless it exists. */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw err;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  }
}

/** Keys under a prefix ending in `suffix`, in key order; none when the bucket does not exist. */
export async function listKeys(s3: S3Client, prefix: S3Location, suffix = ""): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    let page: ListObjectsV2CommandOutput;
    try {
      page = await s3.send(
        new ListObjectsV2Command({ Bucket: prefix.bucket, Prefix: prefix.key, ContinuationToken: token }),
      );
    } catch (err) {
      if ((err as { name?: string }).name === "NoSuchBucket") return [];
      throw err;
    }
    for (const object of page.Contents ?? []) if (object.Key?.endsWith(suffix)) keys.push(object.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Where the offline store is: a bucket and prefix on an S3 service (DARWIN_OFFLINE_STORE_URI, DARWIN_S3_*). */
export const offlineStoreConfig = z
  .strictObject({
    uri: z
      .string()
      .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, "must be an s3://bucket/prefix URI")
      .optional()
      .describe("The offline store (s3://bucket/prefix); none when unset."),
    s3: s3Config.default({ region: "us-east-1", forcePathStyle: true }),
  })
  .describe("The offline store: Parquet on S3.");
