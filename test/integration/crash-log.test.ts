/**
 * The crash log on the real control plane (issue 12): a crash-looping revision's failure
 * message names what changed, and its THREAD carries the last lines the crashed container
 * printed, read through `pods/log` (kube-apiserver proxies it to KWOK's kubelet server on
 * loopback, which serves the file test/support/cluster.ts configures), redacted, escaped and
 * bounded. Hostile lines (`<!channel>`, `<@U123>`, `<https://x|y>`, backticks, a 10 KiB line)
 * stay inert text, and none of it reaches the channel message. The thread holds one reply,
 * edited when its content changes, never a second one.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { criLog } from '../support/cluster.js';
import { messageColour, messageText, SLACK_ANNOTATION, startHarness, type Harness } from '../support/hermod-harness.js';
import { GREEN, RED, dump } from '../support/scenario.js';

const DEADLINE = 14;

const HOSTILE = [
  'starting shop-api 2.0',
  '<!channel> <@U123> see <https://x|y> and ``` close ` the block',
  'connecting with password=hunter2 as xoxb-1234567890-abcdefghij',
  'A'.repeat(10 * 1024),
  'panic: boom & <bust>',
];

describe('the crash log in the thread, on the real control plane', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ channels: ['crashlog'], flags: { failingGraceSeconds: 2 } });
  });
  after(async () => {
    await h?.stop();
  });

  it('a crash-looping revision: what changed in the message, the last lines, redacted and escaped, in the thread', async (t) => {
    const logs = h.cluster.containerLogs;
    if (logs === undefined) {
      t.skip('needs the local control plane (KWOK serves the container logs)');
      return;
    }
    await writeFile(logs.previous, criLog(HOSTILE));
    // The API server proxies pods/log to the fake Node's kubelet: KWOK answers from the file.
    await h.createNamespace('crashlog', { [SLACK_ANNOTATION]: 'crashlog' });
    await h.createDeployment({ namespace: 'crashlog', name: 'api', replicas: 1, progressDeadlineSeconds: DEADLINE, image: 'registry.example/app:1' });
    const first = () => h.messages('crashlog').find((m) => m.text.includes('(revision 1)'));
    await h.waitFor('revision 1 to succeed', () => messageColour(first() ?? {}) === GREEN);
    await h.updateDeployment({ namespace: 'crashlog', name: 'api', replicas: 1, progressDeadlineSeconds: DEADLINE, image: 'registry.example/app:2', failure: 'crashloop' });

    const second = () => h.messages('crashlog').find((m) => m.text.includes('(revision 2)'));
    const failed = await h.waitFor(
      'revision 2 to fail, with the crash log in its thread',
      () => {
        const m = second();
        return m !== undefined && messageColour(m) === RED && m.text.endsWith('failed') && m.replies.some((r) => JSON.stringify(r.blocks ?? []).includes('panic: boom')) ? m : undefined;
      },
      (DEADLINE + 30) * 1000,
    );

    // The channel message: reason first, what changed (the image, tag only), never the log.
    const final = messageText(failed);
    assert.match(final, /CrashLoopBackOff/);
    assert.ok(final.includes('*What changed* `app` `1` → `2`'), final);
    for (const v of failed.history) assert.ok(!messageText(v).includes('panic') && !messageText(v).includes('shop-api 2.0'), `the log stays out of the channel: ${dump(failed)}`);

    // ONE reply in the thread: the crash log, read after the first failing message, and the
    // verdict's details edit it in place (chat.update) rather than reply again.
    assert.equal(failed.replies.length, 1, `one thread reply: ${dump(failed)}`);
    const edits = failed.replies[0]?.history ?? [];
    assert.ok(edits.every((v) => v.text.startsWith('Failure details for Deployment `api` (revision 2)')), dump(failed));

    // The thread: the last lines of the previous run of container app, inert and redacted.
    const reply = failed.replies.map((r) => (r.blocks ?? []).map((b) => (b as { text?: { text?: string } }).text?.text ?? '').join('\n')).join('\n');
    assert.ok(reply.includes('of the previous (crashed) run of container `app` in pod `api-'), reply);
    assert.ok(reply.includes('starting shop-api 2.0'), reply);
    assert.ok(reply.includes('&lt;!channel&gt; &lt;@U123&gt; see &lt;https://x|y&gt;'), reply);
    assert.ok(reply.includes('panic: boom &amp; &lt;bust&gt;'), reply);
    for (const raw of ['<!channel>', '<@U123>', '<https://x|y>', 'hunter2', 'xoxb-1234567890']) assert.equal(reply.includes(raw), false, `${raw} in ${reply}`);
    assert.ok(reply.includes('[redacted]'), reply);
    const block = reply.slice(reply.indexOf('```') + 3, reply.lastIndexOf('```'));
    assert.equal(block.includes('`'), false, 'no backtick can close the code block');
    assert.ok(reply.includes('more characters'), 'the 10 KiB line is cut');
    assert.ok(reply.length < 4000, `bounded: ${reply.length} characters`);
  });
});
