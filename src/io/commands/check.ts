/**
 * `hermod check`: can Hermod work here? Verifies the Slack token (auth.test), the cluster
 * connection, the RBAC permissions Hermod needs (SelfSubjectAccessReview), and lists the
 * namespaces Hermod would watch with their channel and alert level. Exit 3 on problems.
 */
import { AuthorizationV1Api, CoreV1Api, VersionApi } from '@kubernetes/client-node';
import { EXIT } from './exitCodes.js';
import type { Config } from '../config.js';
import { loadKubeConfig } from '../kube/kubeconfig.js';
import { ALERT_ANNOTATION, SLACK_ANNOTATION } from '../../machines/annotations.js';
import { createSlackClient } from '../slack.js';

/** What Hermod's watch layer and Event recorder call; example/clusterrole.yaml grants exactly this. */
export const REQUIRED_ACCESS: readonly { verb: string; group: string; resource: string; subresource?: string }[] = [
  ...['namespaces', 'pods', 'events'].flatMap((resource) => ['list', 'watch'].map((verb) => ({ verb, group: '', resource }))),
  ...['deployments', 'replicasets'].flatMap((resource) => ['list', 'watch'].map((verb) => ({ verb, group: 'apps', resource }))),
  { verb: 'create', group: '', resource: 'events' },
];

export async function check(config: Config, _flags: Record<string, unknown>, out: (line: string) => void = console.log): Promise<number> {
  const problems: string[] = [];
  const ok = (line: string) => out(`  ok    ${line}`);
  const bad = (line: string) => {
    problems.push(line);
    out(`  FAIL  ${line}`);
  };

  out('Slack');
  if (config.slackToken === null) {
    bad('SLACK_TOKEN is not set: create a Slack app (slack-app-manifest.yaml), install it, and export its bot token');
  } else {
    try {
      const auth = await createSlackClient({ token: config.slackToken, slackApiUrl: config.slackApiUrl }).auth.test();
      ok(`token works: bot ${auth.user ?? '?'} in workspace ${auth.team ?? '?'}`);
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
      bad(`auth.test failed: ${code}`);
    }
  }

  out('Kubernetes');
  try {
    const kc = loadKubeConfig(config.kubeconfig ?? undefined);
    const version = await kc.makeApiClient(VersionApi).getCode();
    ok(`connected to ${kc.getCurrentCluster()?.server ?? 'the cluster'} (Kubernetes ${version.gitVersion})`);
    const authz = kc.makeApiClient(AuthorizationV1Api);
    // The crash log (--log-lines > 0) reads pods/log.
    const needed = config.logLines > 0 ? [...REQUIRED_ACCESS, { verb: 'get', group: '', resource: 'pods', subresource: 'log' }] : REQUIRED_ACCESS;
    for (const access of needed) {
      const { verb, group, resource, subresource } = access;
      const review = await authz.createSelfSubjectAccessReview({
        body: { spec: { resourceAttributes: { verb, group, resource, ...(subresource !== undefined ? { subresource } : {}) } } },
      });
      const name = `${verb} ${group === '' ? '' : `${group}/`}${resource}${subresource !== undefined ? `/${subresource}` : ''}`;
      if (review.status?.allowed === true) ok(`may ${name}`);
      else bad(`may not ${name}: grant it (see example/clusterrole.yaml)`);
    }
    const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
    const watched = namespaces.items.filter((ns) => ns.metadata?.annotations?.[SLACK_ANNOTATION] !== undefined);
    out(`Watched namespaces (annotated ${SLACK_ANNOTATION}): ${watched.length}`);
    for (const ns of watched) {
      const name = ns.metadata?.name ?? '?';
      const channel = ns.metadata?.annotations?.[SLACK_ANNOTATION]?.trim() ?? '';
      const alert = ns.metadata?.annotations?.[ALERT_ANNOTATION];
      if (channel === '') bad(`${name}: ${SLACK_ANNOTATION} is empty, so this namespace is not watched`);
      else if (alert !== undefined && alert !== 'failure') bad(`${name}: ${ALERT_ANNOTATION} is "${alert}"; the only value is "failure" (everything is posted)`);
      else ok(`${name} -> ${channel}${alert === 'failure' ? ' (failures only)' : ''}`);
    }
  } catch (err) {
    bad(`cluster: ${(err as Error).message}`);
  }

  out(problems.length === 0 ? 'All checks passed.' : `${problems.length} problem(s) found.`);
  return problems.length === 0 ? EXIT.ok : EXIT.checkFailed;
}
