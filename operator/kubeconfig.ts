/**
 * Where the apiserver is and how to authenticate to it: a kubeconfig file (the `--kubeconfig` flag,
 * $KUBECONFIG, ~/.kube/config) or the pod's service account, as kubectl finds them. Our own loader rather
 * than @kubernetes/client-node's KubeConfig, whose module pulls in the whole generated API (about 80 MiB of
 * RSS in every process that talks to the apiserver) for the 200 lines used here.
 *
 * Supported, as clusters and tools write them: the server URL, a CA (file or data), insecure-skip-tls-verify,
 * tls-server-name; client certificates (files or data), a bearer token, a token file (re-read: service
 * account tokens rotate) and exec credential plugins (`aws eks get-token`, `gke-gcloud-auth-plugin`...).
 * What Kubernetes removed or deprecated (basic auth, auth-provider plugins) and what the client cannot do
 * (proxies, impersonation) is refused with an error naming the field, rather than ignored.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isIPv6 } from "node:net";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";

/** The pod's service account: token (rotated by the kubelet), CA and namespace. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** TLS material of a connection, read once when loaded. */
export interface KubeTls {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  /** insecure-skip-tls-verify: the server's certificate is not checked. @default false */
  insecureSkipVerify?: boolean | undefined;
  /** tls-server-name: the name the server's certificate is checked against, when not the URL's host. */
  serverName?: string | undefined;
}

/** An exec credential plugin, as the kubeconfig's `user.exec` names it. */
export interface ExecPlugin {
  command: string;
  args: string[];
  env: Record<string, string>;
  apiVersion: string;
}

/** Where the bearer token comes from. */
export type TokenSource =
  | { type: "static"; token: string }
  /** Re-read at most once a minute, as client-go does: the kubelet rotates service account tokens. */
  | { type: "file"; path: string }
  /** Run when there is no token yet or it expired. */
  | { type: "exec"; plugin: ExecPlugin };

/** Everything needed to talk to one apiserver as one user. */
export interface KubeAccess {
  /** Base URL of the apiserver, without a trailing slash. */
  server: string;
  tls?: KubeTls | undefined;
  token?: TokenSource | undefined;
  /** The context's namespace (the service account's in a pod). */
  namespace?: string | undefined;
}

export interface LoadOptions {
  /** A kubeconfig file; without it: $KUBECONFIG (files separated by ':'), ~/.kube/config, then the pod's service account. */
  kubeconfig?: string | undefined;
  /** The context to use instead of the current-context. */
  context?: string | undefined;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** @default os.homedir() */
  home?: string;
  /** @default SERVICE_ACCOUNT_DIR */
  serviceAccountDir?: string;
}

/** Finds and loads the kubeconfig (or the in-cluster configuration) the way kubectl does. */
export function loadKubeAccess(options: LoadOptions = {}): KubeAccess {
  const env = options.env ?? process.env;
  if (options.kubeconfig) return accessFromKubeconfig([options.kubeconfig], options.context);
  const listed = (env.KUBECONFIG ?? "").split(delimiter).filter((file) => file.length > 0);
  if (listed.length > 0) return accessFromKubeconfig(listed, options.context);
  const personal = join(options.home ?? homedir(), ".kube", "config");
  if (existsSync(personal)) return accessFromKubeconfig([personal], options.context);
  const serviceAccountDir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (existsSync(join(serviceAccountDir, "token"))) return inClusterAccess(env, serviceAccountDir);
  throw new Error(
    `no Kubernetes configuration: pass --kubeconfig, set $KUBECONFIG, write ~/.kube/config, or run in a pod with a service account token at ${serviceAccountDir}`,
  );
}

/**
 * The pod's service account against the `kubernetes` Service (KUBERNETES_SERVICE_HOST and _PORT, which the
 * kubelet sets in every container).
 */
export function inClusterAccess(env: NodeJS.ProcessEnv, serviceAccountDir = SERVICE_ACCOUNT_DIR): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) {
    throw new Error(
      "in a pod, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set (the kubelet sets them unless enableServiceLinks is false)",
    );
  }
  const namespaceFile = join(serviceAccountDir, "namespace");
  return {
    server: `https://${isIPv6(host) ? `[${host}]` : host}:${port}`,
    tls: { ca: readFileSync(join(serviceAccountDir, "ca.crt")) },
    token: { type: "file", path: join(serviceAccountDir, "token") },
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, "utf8").trim() : undefined,
  };
}

const clusterSchema = z.looseObject({
  server: z.string().min(1),
  "certificate-authority": z.string().optional(),
  "certificate-authority-data": z.string().optional(),
  "insecure-skip-tls-verify": z.boolean().optional(),
  "tls-server-name": z.string().optional(),
  "proxy-url": z.string().optional(),
});

const execSchema = z.looseObject({
  command: z.string().min(1),
  args: z.array(z.string()).nullish(),
  env: z.array(z.object({ name: z.string(), value: z.string() })).nullish(),
  apiVersion: z.string().min(1),
});

const userSchema = z.looseObject({
  "client-certificate": z.string().optional(),
  "client-certificate-data": z.string().optional(),
  "client-key": z.string().optional(),
  "client-key-data": z.string().optional(),
  token: z.string().optional(),
  tokenFile: z.string().optional(),
  exec: execSchema.optional(),
  "auth-provider": z.unknown().optional(),
  username: z.string().optional(),
  password: z.string().optional(),
  as: z.string().optional(),
});

const contextSchema = z.looseObject({
  cluster: z.string().min(1),
  user: z.string().optional(),
  namespace: z.string().optional(),
});

const kubeconfigSchema = z.looseObject({
  clusters: z.array(z.object({ name: z.string().min(1), cluster: clusterSchema })).nullish(),
  users: z.array(z.object({ name: z.string().min(1), user: userSchema.nullish() })).nullish(),
  contexts: z.array(z.object({ name: z.string().min(1), context: contextSchema })).nullish(),
  "current-context": z.string().optional(),
});

type Kubeconfig = z.infer<typeof kubeconfigSchema>;

/** One parsed kubeconfig file and the directory its relative paths are relative to. */
interface KubeconfigFile {
  path: string;
  config: Kubeconfig;
}

/**
 * Loads the context (`context`, else the first current-context set) of kubeconfig files merged as kubectl
 * merges $KUBECONFIG: the first file that names a cluster, user or context wins.
 */
export function accessFromKubeconfig(paths: string[], context?: string): KubeAccess {
  // Files of the list that do not exist are skipped, as kubectl does; when none exists, the error names the first.
  const existing = paths.filter((path) => existsSync(path));
  const files = (existing.length > 0 ? existing : paths.slice(0, 1)).map(readKubeconfig);
  const where = paths.join(delimiter);
  const contextName = context ?? files.map((f) => f.config["current-context"]).find((name) => name);
  if (!contextName) throw new Error(`kubeconfig ${where} sets no current-context: name one with --context`);
  // The first file that defines a name wins.
  const first = <T extends { name: string }>(
    entries: (file: KubeconfigFile) => T[] | null | undefined,
    name: string,
  ) => {
    for (const file of files) {
      const entry = entries(file)?.find((e) => e.name === name);
      if (entry) return { entry, file };
    }
    return undefined;
  };
  const ctx = first((f) => f.config.contexts, contextName)?.entry.context;
  if (!ctx) throw new Error(`kubeconfig ${where} has no context named "${contextName}"`);
  const clusterEntry = first((f) => f.config.clusters, ctx.cluster);
  if (!clusterEntry) {
    throw new Error(
      `kubeconfig ${where}: context "${contextName}" names cluster "${ctx.cluster}", which it does not define`,
    );
  }
  const cluster = clusterEntry.entry.cluster;
  const userEntry = ctx.user ? first((f) => f.config.users, ctx.user) : undefined;
  if (ctx.user && !userEntry) {
    throw new Error(
      `kubeconfig ${where}: context "${contextName}" names user "${ctx.user}", which it does not define`,
    );
  }
  const user = userEntry?.entry.user ?? {};
  const userWhere = `kubeconfig ${userEntry?.file.path ?? where}, user "${ctx.user ?? ""}"`;
  refuseUnsupported(user, userWhere);
  if (cluster["proxy-url"]) {
    throw new Error(
      `kubeconfig ${clusterEntry.file.path}, cluster "${ctx.cluster}": proxy-url is not supported; remove it and reach the server directly`,
    );
  }
  const clusterDir = dirname(clusterEntry.file.path);
  const userDir = dirname(userEntry?.file.path ?? clusterEntry.file.path);
  return {
    server: cluster.server.replace(/\/+$/, ""),
    tls: {
      ca: material(clusterDir, cluster["certificate-authority"], cluster["certificate-authority-data"]),
      cert: material(userDir, user["client-certificate"], user["client-certificate-data"]),
      key: material(userDir, user["client-key"], user["client-key-data"]),
      insecureSkipVerify: cluster["insecure-skip-tls-verify"] ?? false,
      serverName: cluster["tls-server-name"],
    },
    token: tokenSource(user, userDir),
    namespace: ctx.namespace,
  };
}

function readKubeconfig(path: string): KubeconfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new Error(`could not read kubeconfig ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new Error(`kubeconfig ${path} is not YAML: ${(error as Error).message}`);
  }
  const parsed = kubeconfigSchema.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`kubeconfig ${path}: ${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid"}`);
  }
  return { path, config: parsed.data };
}

function refuseUnsupported(user: z.infer<typeof userSchema>, where: string): void {
  if (user["auth-provider"] !== undefined) {
    throw new Error(
      `${where}: auth-provider plugins are not supported (kubectl dropped them in 1.26); use the provider's exec plugin (e.g. gke-gcloud-auth-plugin, kubelogin)`,
    );
  }
  if (user.username !== undefined || user.password !== undefined) {
    throw new Error(
      `${where}: username/password (basic authentication) is not supported (Kubernetes removed it in 1.19); use a token or a client certificate`,
    );
  }
  if (user.as !== undefined) {
    throw new Error(`${where}: impersonation (as) is not supported; use the credentials of that user`);
  }
}

/** A file's bytes (relative to the kubeconfig's directory) or base64 data; the file wins, as in kubectl. */
function material(dir: string, file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file) return readFileSync(isAbsolute(file) ? file : join(dir, file));
  return data ? Buffer.from(data, "base64") : undefined;
}

function tokenSource(user: z.infer<typeof userSchema>, dir: string): TokenSource | undefined {
  if (user.token) return { type: "static", token: user.token };
  if (user.tokenFile) {
    return { type: "file", path: isAbsolute(user.tokenFile) ? user.tokenFile : join(dir, user.tokenFile) };
  }
  if (user.exec) {
    const { command, args, env, apiVersion } = user.exec;
    // A command with a path relative to the kubeconfig, as kubectl resolves it; a bare name is looked up on $PATH.
    const resolved = command.includes("/") && !isAbsolute(command) ? join(dir, command) : command;
    return {
      type: "exec",
      plugin: {
        command: resolved,
        args: args ?? [],
        env: Object.fromEntries((env ?? []).map((e) => [e.name, e.value])),
        apiVersion,
      },
    };
  }
  return undefined;
}

const TOKEN_FILE_TTL_MS = 60_000;
/** An exec credential is run again this long before it expires, so no request carries an expired token. */
const EXEC_EXPIRY_MARGIN_MS = 10_000;
const EXEC_TIMEOUT_MS = 60_000;

const execCredentialSchema = z.object({
  status: z.looseObject({
    token: z.string().optional(),
    clientCertificateData: z.string().optional(),
    expirationTimestamp: z.string().optional(),
  }),
});

/**
 * A function that returns the current bearer token of a source: a static token as it is, a token file
 * re-read once a minute, an exec plugin run again when its credential expires (concurrent callers share
 * one run).
 */
export function bearerToken(source: TokenSource, now: () => number = Date.now): () => Promise<string> {
  switch (source.type) {
    case "static":
      return async () => source.token;
    case "file":
      return cached(now, async () => ({
        value: (await readFile(source.path, "utf8")).trim(),
        expiresAt: now() + TOKEN_FILE_TTL_MS,
      }));
    case "exec":
      return cached(now, () => runExecPlugin(source.plugin, now));
  }
}

interface Expiring {
  value: string;
  /** Epoch milliseconds; Infinity when it never expires. */
  expiresAt: number;
}

function cached(now: () => number, fetch: () => Promise<Expiring>): () => Promise<string> {
  let current: Expiring | undefined;
  let pending: Promise<Expiring> | undefined;
  return async () => {
    if (current && now() < current.expiresAt) return current.value;
    pending ??= fetch().finally(() => {
      pending = undefined;
    });
    current = await pending;
    return current.value;
  };
}

async function runExecPlugin(plugin: ExecPlugin, now: () => number): Promise<Expiring> {
  const execInfo = JSON.stringify({
    apiVersion: plugin.apiVersion,
    kind: "ExecCredential",
    spec: { interactive: false },
  });
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(
      plugin.command,
      plugin.args,
      {
        env: { ...process.env, ...plugin.env, KUBERNETES_EXEC_INFO: execInfo },
        timeout: EXEC_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
      },
      (error, out, err) => {
        if (error) {
          const detail = String(err).trim() || error.message;
          reject(new Error(`the kubeconfig's exec plugin ${plugin.command} failed: ${detail}`));
        } else resolve(String(out));
      },
    );
  });
  let json: unknown;
  try {
    json = JSON.parse(stdout);
  } catch {
    throw new Error(`the kubeconfig's exec plugin ${plugin.command} did not print an ExecCredential (JSON)`);
  }
  const credential = execCredentialSchema.safeParse(json);
  if (!credential.success || !credential.data.status.token) {
    const certificate = credential.success && credential.data.status.clientCertificateData;
    throw new Error(
      certificate
        ? `the kubeconfig's exec plugin ${plugin.command} returned a client certificate; only token credentials are supported`
        : `the kubeconfig's exec plugin ${plugin.command} returned no status.token`,
    );
  }
  const { token, expirationTimestamp } = credential.data.status;
  const expiry = expirationTimestamp ? Date.parse(expirationTimestamp) : Number.NaN;
  return {
    value: token,
    expiresAt: Number.isNaN(expiry)
      ? Number.POSITIVE_INFINITY
      : Math.max(now(), expiry - EXEC_EXPIRY_MARGIN_MS),
  };
}

/** Whether the access authenticates as someone (a token source or a client certificate). */
export function hasCredentials(access: KubeAccess): boolean {
  return access.token !== undefined || access.tls?.cert !== undefined;
}
