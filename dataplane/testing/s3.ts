/** Test support on the testbed's S3: a bucket of the test's own, emptied and deleted afterwards. */
import { DeleteBucketCommand, DeleteObjectsCommand, type S3Client } from "@aws-sdk/client-s3";
import { listKeys } from "../offline-store/s3.ts";

/** Deletes every object of `bucket`, then the bucket. */
export async function deleteTestBucket(s3: S3Client, bucket: string): Promise<void> {
  const keys = await listKeys(s3, { bucket, key: "" });
  for (let i = 0; i < keys.length; i += 1000) {
    await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })) },
      }),
    );
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}
