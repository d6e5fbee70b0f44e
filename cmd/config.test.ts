import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig, parseConfig } from "../operator/config.ts";
import { darwinConfig, defaultDarwinConfig } from "./config.ts";

describe("Darwin's operator configuration", () => {
  it("has the runtime's settings and Darwin's sections, all with defaults", () => {
    const config = defaultDarwinConfig();
    expect(config.workers).toBe(4);
    expect(config.webhook).toMatchObject({
      enabled: true,
      port: 9443,
      configuration: { manage: "inject-ca" },
    });
    expect(config.capacityClasses["on-demand"].cpuCoreHour).toBeGreaterThan(
      config.capacityClasses.spot.cpuCoreHour,
    );
  });

  it("takes the serving settings, MLflow from DARWIN_MLFLOW_URL", () => {
    const config = loadConfig({ env: { DARWIN_MLFLOW_URL: "http://127.0.0.1:25001" } }, darwinConfig);
    expect(config.serving).toMatchObject({
      mlflowTrackingURI: "http://127.0.0.1:25001",
      modelCheckIntervalSeconds: 60,
      rolloutDeadlineSeconds: 600,
    });
    expect(defaultDarwinConfig().serving.mlflowTrackingURI).toBeUndefined();
  });

  it("takes the webhook's environment variables next to the runtime's", () => {
    const config = loadConfig({ env: { DARWIN_WEBHOOK_PORT: "29443", DARWIN_WORKERS: "2" } }, darwinConfig);
    expect(config.webhook.port).toBe(29443);
    expect(config.workers).toBe(2);
  });

  it("names bad prices and unknown keys in Darwin's sections", () => {
    let message = "";
    try {
      parseConfig(
        {
          capacityClasses: { spot: { cpuCoreHour: -1, memoryGiBHour: 0 }, "on-demand": { cpuCoreHour: 1 } },
          webhook: { prot: 1 },
        },
        {},
        darwinConfig,
      );
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain("capacityClasses.spot.cpuCoreHour");
    expect(message).toContain("capacityClasses.on-demand.memoryGiBHour");
    expect(message).toMatch(/webhook.*Unrecognized key.*prot/);
  });
});
