/** The admission webhook: server, configuration rendering, and the validation modules reconcilers reuse. */
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
export * from "./validation/index.ts";
