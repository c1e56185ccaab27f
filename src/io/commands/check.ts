/**
 * `hermod check`: can Hermod work here? Verifies the Slack token (auth.test), the cluster
 * connection and the identity Hermod is known by (SelfSubjectReview), the RBAC permissions it
 * needs on the cluster and in its own namespace (SelfSubjectAccessReview: the state ConfigMap
 * and the leader Lease), and lists the namespaces Hermod would watch with their channel and
 * alert level. One line per finding, never a raw HTTP dump. Exit 3 on problems, 2 when no
 * kubeconfig can be used.
 */
import { AuthenticationV1Api, AuthorizationV1Api, CoreV1Api, VersionApi, type KubeConfig } from '@kubernetes/client-node';
import { EXIT } from './exitCodes.js';
import type { Config } from '../config.js';
import { describeKubeError } from '../kube/describe.js';
import { KubeConfigError } from '../kube/errors.js';
import { KUBECONFIG_ADVICE, loadKubeConfig } from '../kube/kubeconfig.js';
import { DEFAULT_STATE_NAME, stateNamespace } from '../kube/stateStore.js';
import { ALERT_ANNOTATION, MENTION_ANNOTATION, SLACK_ANNOTATION } from '../../machines/annotations.js';
import { parseMentions } from '../../machines/mentions.js';
import { describeSlackError } from '../slackErrors.js';
import { createSlackClient } from '../slack.js';

export interface Access {
  verb: string;
  group: string;
  resource: string;
  /** A single object's name (resourceNames in the Role). */
  name?: string;
  subresource?: string;
}

/** What Hermod's watch layer and Event recorder call; example/clusterrole.yaml grants exactly this. */
export const REQUIRED_ACCESS: readonly Access[] = [
  ...['namespaces', 'pods', 'events'].flatMap((resource) => ['list', 'watch'].map((verb) => ({ verb, group: '', resource }))),
  ...['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'controllerrevisions'].flatMap((resource) => ['list', 'watch'].map((verb) => ({ verb, group: 'apps', resource }))),
  { verb: 'create', group: '', resource: 'events' },
];

/** The leader election Lease in Hermod's namespace. */
export const LEADER_LEASE = 'hermod-leader';

/** What Hermod does in its own namespace; example/role.yaml grants exactly this. */
export const NAMESPACE_ACCESS: readonly Access[] = [
  { verb: 'get', group: '', resource: 'configmaps', name: DEFAULT_STATE_NAME },
  { verb: 'update', group: '', resource: 'configmaps', name: DEFAULT_STATE_NAME },
  { verb: 'create', group: '', resource: 'configmaps' },
  { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', name: LEADER_LEASE },
  { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', name: LEADER_LEASE },
  { verb: 'create', group: 'coordination.k8s.io', resource: 'leases' },
];

function accessName(access: Access): string {
  const sub = access.subresource !== undefined ? `/${access.subresource}` : '';
  return `${access.verb} ${access.group === '' ? '' : `${access.group}/`}${access.resource}${sub}${access.name !== undefined ? `/${access.name}` : ''}`;
}

interface Report {
  ok(line: string): void;
  /** Not a problem: something the operator may want to know. */
  note(line: string): void;
  bad(line: string): void;
  section(title: string): void;
}

export async function check(config: Config, _flags: Record<string, unknown>, out: (line: string) => void = console.log): Promise<number> {
  const problems: string[] = [];
  const report: Report = {
    ok: (line) => out(`  ok    ${line}`),
    note: (line) => out(`  note  ${line}`),
    bad: (line) => {
      problems.push(line);
      out(`  FAIL  ${line}`);
    },
    section: (title) => out(title),
  };

  report.section('Slack');
  await checkSlack(config, report);

  report.section('Kubernetes');
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(config.kubeconfig ?? undefined);
  } catch (err) {
    if (!(err instanceof KubeConfigError)) throw err;
    report.bad(err.message);
    out(KUBECONFIG_ADVICE);
    return EXIT.usage;
  }
  await checkCluster(kc, config, report);

  out(problems.length === 0 ? 'All checks passed.' : `${problems.length} problem(s) found.`);
  return problems.length === 0 ? EXIT.ok : EXIT.checkFailed;
}

async function checkSlack(config: Config, report: Report): Promise<void> {
  if (config.slackToken === null) {
    report.bad('SLACK_TOKEN is not set: create a Slack app (slack-app-manifest.yaml), install it, and export its bot token');
    return;
  }
  try {
    const auth = await createSlackClient({ token: config.slackToken, slackApiUrl: config.slackApiUrl }).auth.test();
    report.ok(`token works: bot ${auth.user ?? '?'} in workspace ${auth.team ?? '?'}`);
    const scopes = auth.response_metadata?.scopes ?? [];
    if (scopes.includes('channels:history')) report.ok('channels:history granted: a new leader finds a first post its killed predecessor could not record, and edits it');
    else report.note('channels:history not granted (optional): a first post whose answer a killed leader never recorded is sent again and counted as a possible duplicate (slack-app-manifest.yaml)');
  } catch (err) {
    report.bad(`auth.test: ${describeSlackError(err, config.slackApiUrl)}`);
  }
}

async function checkCluster(kc: KubeConfig, config: Config, report: Report): Promise<void> {
  const server = kc.getCurrentCluster()?.server ?? 'the cluster';
  try {
    const version = await kc.makeApiClient(VersionApi).getCode();
    report.ok(`connected to ${server} (Kubernetes ${version.gitVersion})`);
  } catch (err) {
    report.bad(describeKubeError(err, server));
    return;
  }
  try {
    const review = await kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
    const user = review.status?.userInfo;
    const groups = (user?.groups ?? []).filter((g) => g !== 'system:authenticated');
    report.ok(`checked as ${user?.username ?? '?'}${groups.length > 0 ? ` (groups: ${groups.join(', ')})` : ''}`);
  } catch (err) {
    // The review is informational: an old server, or an account not allowed to ask, is no problem for Hermod.
    report.ok(`identity unknown (SelfSubjectReview: ${describeKubeError(err, server)})`);
  }

  const authz = kc.makeApiClient(AuthorizationV1Api);
  const may = async (access: Access, namespace?: string): Promise<boolean> => {
    const review = await authz.createSelfSubjectAccessReview({
      body: {
        spec: {
          resourceAttributes: {
            verb: access.verb,
            group: access.group,
            resource: access.resource,
            ...(access.name !== undefined ? { name: access.name } : {}),
            ...(access.subresource !== undefined ? { subresource: access.subresource } : {}),
            ...(namespace !== undefined ? { namespace } : {}),
          },
        },
      },
    });
    return review.status?.allowed === true;
  };
  try {
    // The crash log (--log-lines > 0) reads pods/log.
    const needed: readonly Access[] = config.logLines > 0 ? [...REQUIRED_ACCESS, { verb: 'get', group: '', resource: 'pods', subresource: 'log' }] : REQUIRED_ACCESS;
    for (const access of needed) {
      if (await may(access)) report.ok(`may ${accessName(access)}`);
      else report.bad(`may not ${accessName(access)}: grant it (see example/clusterrole.yaml)`);
    }
    const own = stateNamespace(config.stateNamespace);
    if (own === null) {
      report.ok('no namespace of its own (--state-namespace, POD_NAMESPACE): delivery state is not persisted');
    } else {
      for (const access of NAMESPACE_ACCESS) {
        if (await may(access, own)) report.ok(`may ${accessName(access)} in ${own}`);
        else report.bad(`may not ${accessName(access)} in ${own}: grant it with a Role in ${own} (see example/role.yaml)`);
      }
    }
  } catch (err) {
    report.bad(`access review: ${describeKubeError(err, server)}`);
  }

  try {
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    const watched = namespaces.items.filter((ns) => ns.metadata?.annotations?.[SLACK_ANNOTATION] !== undefined);
    report.section(`Watched namespaces (annotated ${SLACK_ANNOTATION}): ${watched.length}`);
    for (const ns of watched) {
      const name = ns.metadata?.name ?? '?';
      const channel = ns.metadata?.annotations?.[SLACK_ANNOTATION]?.trim() ?? '';
      const alert = ns.metadata?.annotations?.[ALERT_ANNOTATION];
      const mention = ns.metadata?.annotations?.[MENTION_ANNOTATION]?.trim() ?? '';
      const mentions = parseMentions(mention, { allowBroadcast: config.allowBroadcastMentions });
      if (channel === '') report.bad(`${name}: ${SLACK_ANNOTATION} is empty, so this namespace is not watched`);
      else if (alert !== undefined && alert !== 'failure') report.bad(`${name}: ${ALERT_ANNOTATION} is "${alert}"; the only value is "failure" (everything is posted)`);
      else if (!mentions.ok) report.bad(`${name}: ${MENTION_ANNOTATION} is refused: ${mentions.reason}; failures are posted without a mention`);
      else {
        const who = mentions.mentions.length === 0 ? '' : `, mentioning ${mentions.mentions.length} on failure`;
        report.ok(`${name} -> ${channel}${alert === 'failure' ? ' (failures only)' : ''}${who}`);
      }
    }
  } catch (err) {
    report.bad(`list namespaces: ${describeKubeError(err, server)}`);
  }
}
