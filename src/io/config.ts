/**
 * Hermod's configuration, in one place: every option with its flag, environment variable,
 * default and validation. Precedence is flag > environment > default. Secrets (the Slack
 * token, the Sentry DSN) come only from the environment, never from flags, so they do not
 * show up in `ps` or in a Pod spec's args.
 */
import { DEFAULT_COMMIT_SHA_ANNOTATION, DEFAULT_REPO_URL_ANNOTATION, type AnnotationNames } from '../machines/annotations.js';
import { DEFAULT_BAKE_SECONDS, MAX_BAKE_SECONDS } from '../machines/bake.js';
import { compileRedactions } from '../machines/crashLog.js';
import { MESSAGE_MODES, type MessageMode } from '../machines/message.js';
import { ConfigError, parseValue, type ValueRule } from './configValue.js';

export { ConfigError };

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface Config {
  kubeconfig: string | null;
  level: LogLevel;
  /** null: text when stdout is a terminal, else JSON. */
  logFormat: LogFormat | null;
  repoUrlAnnotation: string;
  commitShaAnnotation: string;
  gitAnnotationWarning: boolean;
  messageMode: MessageMode;
  failingGraceSeconds: number;
  /** How long a succeeded rollout's pods are watched for a degradation (issue 13); 0: off. */
  bakeSeconds: number;
  /** `here` and `channel` allowed in `hermod.uswitch.com/mention` (issue 13). */
  allowBroadcastMentions: boolean;
  /** Rollouts of one commit in one channel starting within this many seconds share one message (issue 13); 0: off. */
  groupWindowSeconds: number;
  /** Hermod's deadline for StatefulSet and DaemonSet rollouts without the annotation. */
  progressDeadlineSeconds: number;
  /** Last lines of a crashed container's previous run shown in a failure's thread; 0: off. */
  logLines: number;
  /** Extra regexes whose matches are redacted from those lines (added to the built-in list). */
  logRedact: string[];
  metricsPort: number;
  dryRun: boolean;
  /** WebSocket URL of a Stately inspector server, or null (inspection off). */
  inspect: string | null;
  /** Namespace of the ConfigMap holding delivery state; null: POD_NAMESPACE, then the service account's. */
  stateNamespace: string | null;
  /** Leader election on the Lease `hermod-leader`; null: on whenever Hermod has a namespace (see stateNamespace). */
  leaderElect: boolean | null;
  leaseDurationSeconds: number;
  renewDeadlineSeconds: number;
  retryPeriodSeconds: number;
  /** At start and takeover, a rollout that started and ended while no Hermod ran is reported (late) if it ended this recently; 0: never. */
  catchUpSeconds: number;
  slackToken: string | null;
  /** Base URL of the Slack Web API (tests and the demo point it at a local server). */
  slackApiUrl: string;
  sentryDsn: string | null;
  clusterName: string | null;
}

interface OptionSpec<K extends keyof Config = keyof Config> extends ValueRule {
  key: K;
  /** Long flag name without dashes, or null for environment-only settings (secrets). */
  flag: string | null;
  env: string | null;
  default: Config[K];
  description: string;
}

/** The single table behind the CLI flags, the environment and the README's configuration table. */
export const OPTIONS: readonly OptionSpec[] = [
  {
    key: 'kubeconfig',
    flag: 'kubeconfig',
    // KUBECONFIG (a list of files, merged like kubectl does) is read by the kubeconfig loader.
    env: null,
    kind: 'string',
    default: null,
    description: 'Path to a kubeconfig file. Empty: KUBECONFIG, then in-cluster config when running in a Pod, then ~/.kube/config.',
  },
  { key: 'level', flag: 'level', env: 'HERMOD_LEVEL', kind: 'enum', values: LOG_LEVELS, default: 'info', description: 'Log level.' },
  {
    key: 'logFormat',
    flag: 'log-format',
    env: 'HERMOD_LOG_FORMAT',
    kind: 'enum',
    values: LOG_FORMATS,
    default: null,
    description: '`json`: one JSON object per line (for a log pipeline). `text`: readable lines for a terminal. Default: text when stdout is a terminal, else json.',
  },
  {
    key: 'repoUrlAnnotation',
    flag: 'repo-url-annotation',
    env: 'HERMOD_REPO_URL_ANNOTATION',
    kind: 'string',
    default: DEFAULT_REPO_URL_ANNOTATION,
    description: 'Deployment annotation holding the git repository URL, used for commit and pull-request links.',
  },
  {
    key: 'commitShaAnnotation',
    flag: 'commit-sha-annotation',
    env: 'HERMOD_COMMIT_SHA_ANNOTATION',
    kind: 'string',
    default: DEFAULT_COMMIT_SHA_ANNOTATION,
    description: 'Deployment annotation holding the deployed commit SHA.',
  },
  {
    key: 'gitAnnotationWarning',
    flag: 'git-annotation-warning',
    env: 'HERMOD_GIT_ANNOTATION_WARNING',
    kind: 'boolean',
    default: false,
    description: 'Add a warning to failure messages when the git annotations are missing.',
  },
  {
    key: 'messageMode',
    flag: 'message-mode',
    env: 'HERMOD_MESSAGE_MODE',
    kind: 'enum',
    values: MESSAGE_MODES,
    default: 'update',
    description: '`update`: one message per rollout, edited in place. `post`: a new message for start, success and failure (the original style).',
  },
  {
    key: 'failingGraceSeconds',
    flag: 'failing-grace-seconds',
    env: 'HERMOD_FAILING_GRACE_SECONDS',
    kind: 'integer',
    min: 0,
    max: 86_400,
    default: 60,
    description: 'How long every new Pod must be stuck (CrashLoopBackOff, image pull errors, ...) before the rollout is reported as failing, ahead of its progress deadline.',
  },
  {
    key: 'bakeSeconds',
    flag: 'bake-seconds',
    env: 'HERMOD_BAKE_SECONDS',
    kind: 'integer',
    min: 0,
    max: MAX_BAKE_SECONDS,
    default: DEFAULT_BAKE_SECONDS,
    description:
      'For this long after a rollout succeeds, Hermod watches its new pods: if one crash-loops or stays unready for `--failing-grace-seconds` while the workload has not rolled out again, the message is edited to "succeeded, then degraded" with the reason. `0` turns it off.',
  },
  {
    key: 'allowBroadcastMentions',
    flag: 'allow-broadcast-mentions',
    env: 'HERMOD_ALLOW_BROADCAST_MENTIONS',
    kind: 'boolean',
    default: false,
    description:
      'Allow the words `here` and `channel` in the `hermod.uswitch.com/mention` annotation (they ping everyone in the channel when a rollout fails). Without it only Slack user and user-group IDs are accepted.',
  },
  {
    key: 'groupWindowSeconds',
    flag: 'group-window-seconds',
    env: 'HERMOD_GROUP_WINDOW_SECONDS',
    kind: 'integer',
    min: 0,
    max: 3_600,
    default: 30,
    description:
      'Rollouts of several workloads in one channel that carry the same commit SHA (`--commit-sha-annotation`) and start within these seconds of the first share one message: a row per workload, the details in its thread (`update` mode only). 0 turns grouping off.',
  },
  {
    key: 'progressDeadlineSeconds',
    flag: 'progress-deadline-seconds',
    env: 'HERMOD_PROGRESS_DEADLINE_SECONDS',
    kind: 'integer',
    min: 1,
    max: 604_800,
    default: 600,
    description:
      'Seconds a StatefulSet or DaemonSet rollout may take before Hermod reports it failed (those kinds have no progress deadline of their own), unless the workload or its namespace has the `hermod.uswitch.com/progress-deadline-seconds` annotation.',
  },
  {
    key: 'logLines',
    flag: 'log-lines',
    env: 'HERMOD_LOG_LINES',
    kind: 'integer',
    min: 0,
    max: 200,
    default: 20,
    description:
      "For a failing or failed rollout, how many of the crashed container's last log lines (its previous run, read through `pods/log`) to post in the message's thread. 0 turns it off.",
  },
  {
    key: 'logRedact',
    flag: 'log-redact',
    env: 'HERMOD_LOG_REDACT',
    kind: 'list',
    check: compileRedactions,
    default: [],
    description:
      'A regular expression (case-insensitive) whose matches are replaced with `[redacted]` in those log lines; repeat the flag for more (one a line in the environment variable). Added to the built-in list: Slack tokens, bearer tokens, `password=`-style values, AWS keys.',
  },
  {
    key: 'metricsPort',
    flag: 'metrics-port',
    env: 'HERMOD_METRICS_PORT',
    kind: 'integer',
    min: 0,
    max: 65_535,
    default: 2112,
    description: 'Port of the HTTP server for /metrics, /livez and /readyz.',
  },
  {
    key: 'dryRun',
    flag: 'dry-run',
    env: 'HERMOD_DRY_RUN',
    kind: 'boolean',
    default: false,
    description: 'Log the Slack messages Hermod would send instead of sending them (no token needed).',
  },
  {
    key: 'inspect',
    flag: 'inspect',
    env: 'HERMOD_INSPECT',
    kind: 'string',
    default: null,
    description: 'WebSocket URL of a Stately inspector server (e.g. ws://127.0.0.1:8080) to visualise the actor system. Off when empty.',
  },
  {
    key: 'stateNamespace',
    flag: 'state-namespace',
    env: 'HERMOD_STATE_NAMESPACE',
    kind: 'string',
    default: null,
    description:
      "Hermod's own namespace, where it keeps which Slack message shows which rollout (ConfigMap `hermod-state`), so a restart edits the same message. Empty: `POD_NAMESPACE`, then the Pod's service account namespace; with none, nothing is persisted.",
  },
  {
    key: 'leaderElect',
    flag: 'leader-elect',
    env: 'HERMOD_LEADER_ELECT',
    kind: 'boolean',
    default: null,
    description:
      "Leader election on the Lease `hermod-leader` in Hermod's namespace: only the leader posts and writes state, the others stay warm. Default: on whenever Hermod has a namespace (see --state-namespace); `false` turns it off.",
  },
  {
    key: 'leaseDurationSeconds',
    flag: 'leader-elect-lease-duration',
    env: 'HERMOD_LEADER_ELECT_LEASE_DURATION',
    kind: 'integer',
    min: 2,
    max: 3_600,
    default: 15,
    description: 'Seconds a follower waits, from when it last saw the Lease change, before it takes over from a leader that stopped renewing.',
  },
  {
    key: 'renewDeadlineSeconds',
    flag: 'leader-elect-renew-deadline',
    env: 'HERMOD_LEADER_ELECT_RENEW_DEADLINE',
    kind: 'integer',
    min: 1,
    max: 3_600,
    default: 10,
    description: 'Seconds the leader keeps leading without a successful renew; then it stops delivering at once. Less than the lease duration.',
  },
  {
    key: 'retryPeriodSeconds',
    flag: 'leader-elect-retry-period',
    env: 'HERMOD_LEADER_ELECT_RETRY_PERIOD',
    kind: 'integer',
    min: 1,
    max: 3_600,
    default: 2,
    description: 'Seconds between attempts to acquire (followers) or renew (the leader) the Lease. Less than the renew deadline.',
  },
  {
    key: 'catchUpSeconds',
    flag: 'catch-up-seconds',
    env: 'HERMOD_CATCH_UP_SECONDS',
    kind: 'integer',
    min: 0,
    max: 604_800,
    default: 3_600,
    description:
      'At start and at every takeover, a rollout of a workload Hermod recorded before that started and ended while no Hermod ran gets one message in its final state, marked as reported late, if it ended within these seconds. 0 turns catch-up off.',
  },
  { key: 'slackToken', flag: null, env: 'SLACK_TOKEN', kind: 'string', default: null, description: 'Slack bot token (xoxb-...). Required unless --dry-run.' },
  {
    key: 'slackApiUrl',
    flag: null,
    env: 'SLACK_API_URL',
    kind: 'string',
    default: 'https://slack.com/api/',
    description: 'Slack Web API base URL. Only for tests and the demo, which point it at a local server.',
  },
  { key: 'sentryDsn', flag: null, env: 'SENTRY_ENDPOINT', kind: 'string', default: null, description: 'Sentry DSN. Hermod reports its own errors there when set.' },
  { key: 'clusterName', flag: null, env: 'CLUSTER_NAME', kind: 'string', default: null, description: 'Name of the cluster, shown in Slack messages.' },
];

/**
 * Resolve the configuration from parsed CLI flags (cac's camelCased options object) and the
 * environment. Throws ConfigError naming the flag or variable on the first bad value.
 */
export function resolveConfig(flags: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    const flagValue = spec.flag === null ? undefined : flags[camelCase(spec.flag)];
    const envValue = spec.env === null ? undefined : env[spec.env];
    if (flagValue !== undefined) config[spec.key] = parseValue(spec, flagValue, `--${spec.flag}`, 'flag');
    else if (envValue !== undefined && envValue !== '') config[spec.key] = parseValue(spec, envValue, `environment variable ${spec.env}`, 'env');
    else config[spec.key] = spec.default;
  }
  const resolved = config as unknown as Config;
  if (resolved.inspect !== null && !/^wss?:\/\//.test(resolved.inspect)) {
    throw new ConfigError(`--inspect must be a ws:// or wss:// URL, got "${resolved.inspect}"`);
  }
  // client-go's rules: a leader must stop before others may take over, and get a second try before it must stop.
  if (resolved.renewDeadlineSeconds >= resolved.leaseDurationSeconds) {
    throw new ConfigError(
      `--leader-elect-renew-deadline (${resolved.renewDeadlineSeconds}) must be less than --leader-elect-lease-duration (${resolved.leaseDurationSeconds})`,
    );
  }
  if (resolved.retryPeriodSeconds >= resolved.renewDeadlineSeconds) {
    throw new ConfigError(
      `--leader-elect-retry-period (${resolved.retryPeriodSeconds}) must be less than --leader-elect-renew-deadline (${resolved.renewDeadlineSeconds})`,
    );
  }
  if (!/^https?:\/\//.test(resolved.slackApiUrl)) {
    throw new ConfigError(`environment variable SLACK_API_URL must be an http(s) URL, got "${resolved.slackApiUrl}"`);
  }
  return resolved;
}

/** The git annotation names the flags chose (`--commit-sha-annotation`, `--repo-url-annotation`). */
export function annotationNames(config: Config): AnnotationNames {
  return { commitSha: config.commitShaAnnotation, repoUrl: config.repoUrlAnnotation };
}

/** `repo-url-annotation` -> `repoUrlAnnotation`, as cac names parsed options. */
export function camelCase(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** The configuration with secrets replaced, fit for a log line: a secret shows as `set` or `unset`, never its value. */
export function redacted(config: Config): Record<string, unknown> {
  const { slackToken, sentryDsn, ...rest } = config;
  return { ...rest, slackToken: slackToken === null ? 'unset' : 'set', sentryDsn: sentryDsn === null ? 'unset' : 'set' };
}
