/** The HTTP base of Darwin's services: see README.md in this folder. */
export { type ErrorBody, type ErrorCode, errorBody, FieldIssue, HttpError } from "./errors.ts";
export { type AccessRule, KubeAuth, type KubeAuthOptions, type KubeUser } from "./kube-auth.ts";
export { closeGracefully, closeOnSignals, listenService, type SignalShutdown } from "./lifecycle.ts";
export {
  buildService,
  type Probe,
  type ReadinessCheck,
  type Service,
  type ServiceOptions,
} from "./service.ts";
