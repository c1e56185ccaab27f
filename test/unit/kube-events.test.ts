/**
 * The namespace Warning Events Hermod records when a namespace's Slack channel refuses its
 * messages, through the real client-node HTTP stack against a tiny local server that applies
 * kube-apiserver's own rule for core/v1 Events (pkg/apis/core/validation/events.go,
 * legacyValidateEvent): an Event in namespace X must name X as its involvedObject's
 * namespace; an empty involvedObject namespace is accepted only in `default`. The real API
 * server is exercised by test/integration/scenarios-resilience.test.ts.
 */
import assert from 'node:assert/strict';
import type http from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { namespaceEventRecorder } from '../../src/io/kube/events.js';
import type { Logger } from '../../src/actors/logger.js';
import { failureStatus, kubeConfigFor, LocalApiServer, sendJson } from '../support/localApiServer.js';

interface PostedEvent {
  metadata: { namespace?: string; generateName?: string };
  involvedObject: { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  source?: { component?: string };
}

/** Answers POST /api/v1/namespaces/:ns/events as kube-apiserver does for core/v1 Events. */
class EventsApi {
  accepted: Array<{ namespace: string; event: PostedEvent }> = [];
  refused: Array<{ namespace: string; reason: string }> = [];
  /** Answer the next requests with this HTTP status instead (e.g. 503). */
  failNext: number[] = [];
  private readonly server = new LocalApiServer((req, res, body) => this.handle(req, res, body));

  get url(): string {
    return this.server.url;
  }

  start = (): Promise<void> => this.server.start();
  close = (): Promise<void> => this.server.close();

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/events$/.exec(req.url ?? '');
    if (req.method !== 'POST' || m?.[1] === undefined) return sendJson(res, 404, { kind: 'Status', status: 'Failure', code: 404 });
    const namespace = decodeURIComponent(m[1]);
    const failure = this.failNext.shift();
    if (failure !== undefined) return sendJson(res, failure, { kind: 'Status', status: 'Failure', code: failure });
    const event = JSON.parse(body.toString('utf8')) as PostedEvent;
    const problem = legacyEventProblem(namespace, event);
    if (problem !== null) {
      this.refused.push({ namespace, reason: problem });
      return sendJson(res, 422, failureStatus(422, { reason: 'Invalid', message: `Event is invalid: ${problem}` }));
    }
    this.accepted.push({ namespace, event });
    sendJson(res, 201, { ...event, metadata: { ...event.metadata, name: `${event.metadata.generateName ?? ''}x1`, namespace } });
  }
}

/** kube-apiserver's namespace rule for core/v1 Events without eventTime; null when the Event passes. */
function legacyEventProblem(namespace: string, event: PostedEvent): string | null {
  if ((event.metadata.namespace ?? namespace) !== namespace) return 'metadata.namespace: does not match the request';
  const involved = event.involvedObject.namespace ?? '';
  if (involved === '') return namespace === '' || namespace === 'default' ? null : 'involvedObject.namespace: Invalid value: "": does not match event.namespace';
  return involved === namespace ? null : `involvedObject.namespace: Invalid value: "${involved}": does not match event.namespace`;
}

function recordingLogger(): Logger & { warnings: Array<{ obj: object; msg?: string }> } {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (obj, msg) => void warnings.push({ obj, msg }) };
}

describe('namespace Warning Events', () => {
  const api = new EventsApi();
  before(() => api.start());
  after(() => api.close());
  beforeEach(() => {
    api.accepted = [];
    api.refused = [];
    api.failNext = [];
  });

  it('regression: an Event about a namespace passes the API server\'s core/v1 validation (it was refused with 422: empty involvedObject.namespace)', async () => {
    const logger = recordingLogger();
    const recorder = namespaceEventRecorder(kubeConfigFor(api.url), { logger, now: () => Date.parse('2030-01-02T03:04:05Z') });
    await recorder.warn('team-a', 'SlackDeliveryFailed', 'Hermod cannot post to Slack channel "nope": channel_not_found');

    assert.deepEqual(api.refused, []);
    assert.deepEqual(logger.warnings, []);
    assert.equal(api.accepted.length, 1);
    const { namespace, event } = api.accepted[0]!;
    assert.equal(namespace, 'team-a');
    assert.deepEqual(event.involvedObject, { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', namespace: 'team-a' });
    assert.equal(event.type, 'Warning');
    assert.equal(event.reason, 'SlackDeliveryFailed');
    assert.equal(event.message, 'Hermod cannot post to Slack channel "nope": channel_not_found');
    assert.equal(event.source?.component, 'hermod');
  });

  it('records one Event per namespace, reason and message per period, and cuts long messages to 1 KiB', async () => {
    let now = 1_000_000;
    const recorder = namespaceEventRecorder(kubeConfigFor(api.url), { logger: recordingLogger(), now: () => now, repeatAfterMs: 60_000 });
    await recorder.warn('team-a', 'SlackDeliveryFailed', 'same');
    await recorder.warn('team-a', 'SlackDeliveryFailed', 'same');
    await recorder.warn('team-b', 'SlackDeliveryFailed', 'same');
    now += 60_000;
    await recorder.warn('team-a', 'SlackDeliveryFailed', 'same');
    await recorder.warn('team-a', 'SlackDeliveryFailed', 'x'.repeat(5000));
    assert.deepEqual(
      api.accepted.map((a) => a.namespace),
      ['team-a', 'team-b', 'team-a', 'team-a'],
    );
    const long = api.accepted.at(-1)!.event.message ?? '';
    assert.equal(long.length, 1024);
    assert.ok(long.endsWith('…'));
  });

  it('logs an Event the API refuses and records it on the next call instead of deduplicating it', async () => {
    const logger = recordingLogger();
    const recorder = namespaceEventRecorder(kubeConfigFor(api.url), { logger });
    api.failNext = [503];
    await recorder.warn('team-c', 'SlackDeliveryFailed', 'refused once');
    assert.equal(api.accepted.length, 0);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]?.msg ?? '', /could not record a Warning Event/);
    await recorder.warn('team-c', 'SlackDeliveryFailed', 'refused once');
    assert.equal(api.accepted.length, 1);
  });

  it('an Event on a Deployment names it (kind, apiVersion, uid) in its namespace; repeats are held back per object (issue 13)', async () => {
    const recorder = namespaceEventRecorder(kubeConfigFor(api.url), { logger: recordingLogger(), repeatAfterMs: 60_000 });
    const web = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'team-a', name: 'web', uid: 'd-1' };
    await recorder.warnOn(web, 'InvalidMentionAnnotation', 'refused');
    await recorder.warnOn(web, 'InvalidMentionAnnotation', 'refused');
    await recorder.warnOn({ ...web, name: 'api', uid: 'd-2' }, 'InvalidMentionAnnotation', 'refused');
    // The same reason and message on the namespace is another object.
    await recorder.warn('team-a', 'InvalidMentionAnnotation', 'refused');
    assert.deepEqual(api.refused, []);
    assert.deepEqual(
      api.accepted.map((a) => [a.namespace, a.event.involvedObject]),
      [
        ['team-a', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', namespace: 'team-a', uid: 'd-1' }],
        ['team-a', { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', namespace: 'team-a', uid: 'd-2' }],
        ['team-a', { apiVersion: 'v1', kind: 'Namespace', name: 'team-a', namespace: 'team-a' }],
      ],
    );
  });
});
