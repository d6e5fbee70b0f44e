/** The admission webhook: server, configuration rendering, certificates. Its rules live in api/validation. */
export { buildApp, validatePath, type WebhookApp, type WebhookAppDeps } from "./app.ts";
export {
  DEFAULT_CONFIGURATION_NAME,
  renderValidatingWebhookConfiguration,
  type WebhookConfigurationOptions,
  webhookName,
} from "./configuration.ts";
export { apiLookupSource, deleteWebhookConfiguration } from "./kube.ts";
export {
  type StartWebhookServerOptions,
  serviceDnsNames,
  startWebhookServer,
  type WebhookServer,
} from "./start.ts";
