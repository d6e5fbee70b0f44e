/**
 * What each data-plane service may do in the Kubernetes API, as data: every service that answers clients
 * checks their bearer tokens (TokenReview) and their permission on the resource they read or write
 * (SubjectAccessReview, operator/http/kube-auth.ts); beyond that each reads only what it serves from. cmd/
 * renders these into config/rbac/ (npm run gen:rbac), with a service account per service, and the chart
 * into templates/dataplane-rbac.yaml (npm run gen:chart).
 */
import { FEATURE_GROUPS } from "../../controllers/feature-group/reconciler.ts";
import { type PolicyRule, ruleFor } from "../../operator/rbac.ts";
import { CHRONOS_TRANSFORMERS } from "../chronos/processor.ts";

/** What KubeAuth sends for each request it checks. */
export const CLIENT_AUTH_RULES: PolicyRule[] = [
  { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
  { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
];

const READ = ["get", "list", "watch"];

export interface DataplaneAccess {
  /** The service's name, e.g. feature-server; its account and role are darwin-<service>. */
  service: string;
  rules: PolicyRule[];
}

export const DATAPLANE_ACCESS: readonly DataplaneAccess[] = [
  // Answers clients; watches FeatureGroups to know tables, types and versions (feature-server/server.ts).
  { service: "feature-server", rules: [...CLIENT_AUTH_RULES, ruleFor(FEATURE_GROUPS, READ)] },
  // Answers no client: watches FeatureGroups for the topics to consume and writes their freshness and lag
  // to the status by server-side apply (materializer/materializer.ts).
  {
    service: "materializer",
    rules: [ruleFor(FEATURE_GROUPS, READ), ruleFor(FEATURE_GROUPS, ["patch"], "status")],
  },
  // Answers clients; events go to Kafka and queries to MariaDB, nothing else in Kubernetes.
  { service: "chronos", rules: CLIENT_AUTH_RULES },
  // Answers no client: watches the rules and writes their status (chronos/processor.ts).
  {
    service: "chronos-processor",
    rules: [ruleFor(CHRONOS_TRANSFORMERS, READ), ruleFor(CHRONOS_TRANSFORMERS, ["patch"], "status")],
  },
  // Answers clients; assets are indexed in MariaDB by the operator's CatalogAsset controller.
  { service: "catalog", rules: CLIENT_AUTH_RULES },
];
