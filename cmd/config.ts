/**
 * Darwin's operator configuration: the runtime's settings (operator/config.ts) plus the application's
 * sections, the admission webhook (`webhook`) and the prices clusters are costed at (`capacityClasses`).
 */
import { capacityPrices } from "../controllers/darwin-cluster/prices.ts";
import { extendConfig, parseConfig } from "../operator/config.ts";
import { webhookConfig } from "../webhooks/config.ts";

export const darwinConfig = extendConfig({ webhook: webhookConfig, capacityClasses: capacityPrices }, [
  { name: "DARWIN_WEBHOOK_ENABLED", path: ["webhook", "enabled"], kind: "boolean" },
  { name: "DARWIN_WEBHOOK_PORT", path: ["webhook", "port"], kind: "number" },
]);

export type DarwinConfig = ReturnType<typeof darwinConfig.schema.parse>;

/** The configuration with every default (what the generated RBAC is made for). */
export const defaultDarwinConfig = (): DarwinConfig => parseConfig({}, {}, darwinConfig);
