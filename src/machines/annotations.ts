/**
 * The annotation names Hermod reads, in one place: the innermost layer that needs them (the
 * message text names them), imported by the watch layer, the config defaults and `hermod check`.
 * Hermod never writes any annotation.
 */

/**
 * On a Namespace: the Slack channel; a non-empty value turns Hermod on for the namespace.
 * On a Deployment: that workload's own channel, overriding its namespace's (issue 13); it
 * never turns tracking on by itself.
 */
export const SLACK_ANNOTATION = 'hermod.uswitch.com/slack';
/** On a Namespace or a Deployment (the Deployment's wins): `failure` = post only failures. */
export const ALERT_ANNOTATION = 'hermod.uswitch.com/alert';
/**
 * On a Namespace or a StatefulSet/DaemonSet (the workload's wins): seconds a rollout may take
 * before Hermod declares it failed (those kinds have no progressDeadlineSeconds of their own).
 */
export const PROGRESS_DEADLINE_ANNOTATION = 'hermod.uswitch.com/progress-deadline-seconds';
/** Set by the deployment controller on Deployments and their ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
/** Set by the deployment controller on a ReplicaSet whose template was rolled back to. */
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';

/** Default of `--commit-sha-annotation`. */
export const DEFAULT_COMMIT_SHA_ANNOTATION = 'hermod.uswitch.com/gitsha';
/** Default of `--repo-url-annotation`. */
export const DEFAULT_REPO_URL_ANNOTATION = 'hermod.uswitch.com/gitrepo';

/** The configurable annotation names (flags `--commit-sha-annotation`, `--repo-url-annotation`). */
export interface AnnotationNames {
  commitSha: string;
  repoUrl: string;
}

export const DEFAULT_ANNOTATIONS: Readonly<AnnotationNames> = Object.freeze({
  commitSha: DEFAULT_COMMIT_SHA_ANNOTATION,
  repoUrl: DEFAULT_REPO_URL_ANNOTATION,
});

/**
 * On a Namespace or a Deployment (the Deployment's wins): Slack user and user-group IDs to
 * mention when a rollout turns failing or failed (issue 13); parsed by ./mentions.ts.
 */
export const MENTION_ANNOTATION = 'hermod.uswitch.com/mention';
