/**
 * The RBAC an operator needs, as data: what the runtime itself does for each controller (derived from
 * `for`, `owns` and `watches`, so a controller never repeats it), plus the extra rules a controller or
 * another part of the process declares. `renderRbac` turns roles into the ClusterRole, Role and binding
 * objects a generator writes out as YAML.
 */
import type { ControllerDefinition } from "./controller.ts";
import type { KubeObject, ResourceType } from "./resource.ts";
import { groupOf } from "./resource.ts";

/** One RBAC rule (rbac.authorization.k8s.io/v1 PolicyRule, without nonResourceURLs). */
export interface PolicyRule {
  /** "" is the core group. */
  apiGroups: string[];
  /** Plurals, or `plural/subresource`. */
  resources: string[];
  verbs: string[];
  /** Restricts get, update, patch and delete to these names (create and list cannot be restricted). */
  resourceNames?: string[];
}

/** A set of rules granted together: a ClusterRole, or a Role when it has a namespace. */
export interface RoleSpec {
  name: string;
  /** The Role's namespace; none makes it a ClusterRole. */
  namespace?: string;
  rules: PolicyRule[];
}

/** What reading a kind through an informer takes. */
const READ = ["get", "list", "watch"];

/** A rule for one resource type (or one of its subresources). */
export function ruleFor(type: ResourceType, verbs: string[], subresource?: string): PolicyRule {
  return {
    apiGroups: [groupOf(type.apiVersion)],
    resources: [subresource ? `${type.plural}/${subresource}` : type.plural],
    verbs,
  };
}

/**
 * What the runtime does on behalf of one controller, plus the controller's own `rbac`:
 * - the reconciled kind: read and cache it, patch it (finalizers), patch its status; update its
 *   `finalizers` subresource, which setting blockOwnerDeletion on a child needs where the
 *   OwnerReferencesPermissionEnforcement admission plugin is on;
 * - owned kinds: read and cache them, create and server-side apply (patch) them, delete them (ctx.delete);
 * - watched kinds: read and cache them.
 */
export function controllerRules(definition: ControllerDefinition): PolicyRule[] {
  return mergeRules([
    ruleFor(definition.for, [...READ, "patch"]),
    ruleFor(definition.for, ["patch"], "status"),
    ruleFor(definition.for, ["update"], "finalizers"),
    ...(definition.owns ?? []).map((type) => ruleFor(type, [...READ, "create", "patch", "delete"])),
    ...(definition.watches ?? []).map((watch) => ruleFor(watch.type, READ)),
    ...(definition.rbac ?? []),
  ]);
}

/** Events about reconciled objects (events.k8s.io/v1; a repeat patches its series). */
export const EVENT_RULES: PolicyRule[] = [
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
];

/** The leader-election Lease, in its namespace. */
export const LEADER_ELECTION_RULES: PolicyRule[] = [
  { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["create", "get", "update"] },
];

export interface OperatorRoleOptions {
  /** Prefix of the role names, e.g. "darwin-operator". */
  name: string;
  controllers: readonly ControllerDefinition[];
  /** Namespace of the leader-election Lease. */
  leaseNamespace: string;
}

/**
 * The runtime's roles: a ClusterRole for every controller's kinds and the Events, and a Role for the Lease
 * in its namespace.
 */
export function operatorRoles(options: OperatorRoleOptions): RoleSpec[] {
  return [
    {
      name: options.name,
      rules: mergeRules([...options.controllers.flatMap(controllerRules), ...EVENT_RULES]),
    },
    {
      name: `${options.name}-leader-election`,
      namespace: options.leaseNamespace,
      rules: LEADER_ELECTION_RULES,
    },
  ];
}

/**
 * One rule per API group, set of names and set of verbs, listing every resource granted exactly those
 * verbs: the union of what the input grants, in a stable order (so generated YAML only changes when a
 * permission does).
 */
export function mergeRules(rules: readonly PolicyRule[]): PolicyRule[] {
  const verbsByResource = new Map<string, Set<string>>();
  for (const rule of rules) {
    const names = [...new Set(rule.resourceNames ?? [])].sort();
    for (const group of rule.apiGroups) {
      for (const resource of rule.resources) {
        const key = JSON.stringify([group, names, resource]);
        const verbs = verbsByResource.get(key) ?? new Set<string>();
        for (const verb of rule.verbs) verbs.add(verb);
        verbsByResource.set(key, verbs);
      }
    }
  }
  const merged = new Map<string, PolicyRule>();
  for (const [key, verbSet] of verbsByResource) {
    const [group, names, resource] = JSON.parse(key) as [string, string[], string];
    const verbs = [...verbSet].sort();
    const ruleKey = JSON.stringify([group, names, verbs]);
    const rule = merged.get(ruleKey) ?? {
      apiGroups: [group],
      resources: [],
      verbs,
      ...(names.length > 0 && { resourceNames: names }),
    };
    rule.resources.push(resource);
    merged.set(ruleKey, rule);
  }
  return [...merged.values()]
    .map((rule) => ({ ...rule, resources: rule.resources.sort() }))
    .sort(compareRules);
}

function compareRules(a: PolicyRule, b: PolicyRule): number {
  const fields = (rule: PolicyRule) => [rule.apiGroups, rule.resources, rule.resourceNames ?? []];
  const [x, y] = [fields(a), fields(b)];
  for (let i = 0; i < x.length; i++) {
    const order = compareLists(x[i] ?? [], y[i] ?? []);
    if (order !== 0) return order;
  }
  return 0;
}

function compareLists(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i] ?? "", b[i] ?? ""];
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The account the roles are bound to. */
export interface ServiceAccountRef {
  name: string;
  namespace: string;
}

const RBAC_API = "rbac.authorization.k8s.io/v1";

/**
 * A role and its binding to the service account: ClusterRole and ClusterRoleBinding, or Role and
 * RoleBinding (of the same name) when the spec has a namespace.
 */
export function renderRole(
  role: RoleSpec,
  account: ServiceAccountRef,
  labels: Record<string, string> = {},
): [KubeObject, KubeObject] {
  const cluster = role.namespace === undefined;
  const metadata = {
    name: role.name,
    ...(role.namespace !== undefined && { namespace: role.namespace }),
    ...(Object.keys(labels).length > 0 && { labels }),
  };
  const kind = cluster ? "ClusterRole" : "Role";
  return [
    { apiVersion: RBAC_API, kind, metadata, rules: mergeRules(role.rules) },
    {
      apiVersion: RBAC_API,
      kind: `${kind}Binding`,
      metadata,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: role.name },
      subjects: [{ kind: "ServiceAccount", name: account.name, namespace: account.namespace }],
    },
  ];
}
