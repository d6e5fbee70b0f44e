import { describe, expect, it } from "vitest";
import { loadFeatureServerConfig } from "./config.ts";

describe("feature server configuration", () => {
  it("reads the offline store and its S3 service from the environment", () => {
    const config = loadFeatureServerConfig({
      DARWIN_OFFLINE_STORE_URI: "s3://lake/features",
      DARWIN_S3_ENDPOINT: "http://127.0.0.1:25000",
      DARWIN_S3_ACCESS_KEY_ID: "key",
      DARWIN_S3_SECRET_ACCESS_KEY: "secret",
    });
    expect(config.offlineStore).toEqual({
      uri: "s3://lake/features",
      s3: {
        endpoint: "http://127.0.0.1:25000",
        region: "us-east-1",
        accessKeyId: "key",
        secretAccessKey: "secret",
        forcePathStyle: true,
      },
    });
  });

  it("serves no training sets without an offline store, and names a malformed one", () => {
    expect(
      loadFeatureServerConfig({ DARWIN_S3_ENDPOINT: "http://127.0.0.1:25000" }).offlineStore.uri,
    ).toBeUndefined();
    expect(() => loadFeatureServerConfig({ DARWIN_OFFLINE_STORE_URI: "lake/features" })).toThrow(
      "offlineStore.uri: must be an s3://bucket/prefix URI",
    );
  });
});
