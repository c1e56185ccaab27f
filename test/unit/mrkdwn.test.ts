import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BACKTICK_STANDIN,
  clipRaw,
  code,
  codeBlock,
  escapeClipped,
  escapedLength,
  escapeMrkdwn,
  fitMrkdwn,
  isLinkableUrl,
  link,
  truncationMarker,
} from '../../src/machines/mrkdwn.js';

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

describe('escapeMrkdwn', () => {
  it('replaces only &, < and >', () => {
    assert.equal(escapeMrkdwn('a & b < c > d *e* _f_ ~g~ `h` "i" \'j\''), 'a &amp; b &lt; c &gt; d *e* _f_ ~g~ `h` "i" \'j\'');
  });

  it('turns mentions into harmless text', () => {
    assert.equal(escapeMrkdwn('<!channel> <!here> <@U123> <#C1>'), '&lt;!channel&gt; &lt;!here&gt; &lt;@U123&gt; &lt;#C1&gt;');
  });

  it('escapes an existing entity again, so it shows literally', () => {
    assert.equal(escapeMrkdwn('&lt;!channel&gt;'), '&amp;lt;!channel&amp;gt;');
  });

  it('escapedLength matches the escaped string', () => {
    for (const s of ['', 'plain', '<&>', '🚀 & <@U1>', 'x'.repeat(1000)]) assert.equal(escapedLength(s), escapeMrkdwn(s).length);
  });
});

describe('clipRaw', () => {
  it('keeps short text whole', () => {
    assert.deepEqual(clipRaw('hello', 10), { text: 'hello', omitted: 0 });
  });

  it('budgets the escaped length, so an entity is never cut in half', () => {
    // "a&" escapes to "a&amp;" (6): a budget of 4 keeps only "a".
    assert.deepEqual(clipRaw('a&b', 4), { text: 'a', omitted: 2 });
    assert.deepEqual(clipRaw('a&b', 6), { text: 'a&', omitted: 1 });
  });

  it('never splits an emoji surrogate pair and counts omitted code points', () => {
    const r = clipRaw('ab🚀🚀🚀', 3);
    assert.equal(r.text, 'ab');
    assert.equal(r.omitted, 3);
    assert.doesNotMatch(r.text, LONE_SURROGATE);
  });

  it('treats a negative budget as zero', () => {
    assert.deepEqual(clipRaw('abc', -5), { text: '', omitted: 3 });
  });
});

describe('truncationMarker', () => {
  it('says how much was cut', () => {
    assert.equal(truncationMarker(1234), '… (truncated, 1234 more characters)');
    assert.equal(truncationMarker(1), '… (truncated, 1 more character)');
  });
});

describe('escapeClipped', () => {
  it('escapes, and cuts with an ellipsis within the limit', () => {
    assert.equal(escapeClipped('<b>', 20), '&lt;b&gt;');
    const out = escapeClipped('<'.repeat(100), 20);
    assert.ok(out.length <= 20, out);
    assert.ok(out.endsWith('…'));
    assert.match(out, /^(&lt;)+…$/);
  });
});

describe('code', () => {
  it('wraps in backticks and escapes', () => {
    assert.equal(code('a<b>&c'), '`a&lt;b&gt;&amp;c`');
  });

  it('neutralises backticks so the span cannot be closed early', () => {
    const out = code('x` <!channel> `y');
    assert.equal(out, '`x' + BACKTICK_STANDIN + ' &lt;!channel&gt; ' + BACKTICK_STANDIN + 'y`');
    assert.equal(out.split('`').length - 1, 2);
  });

  it('flattens line breaks', () => {
    assert.equal(code('a\nb\r\nc'), '`a b c`');
  });

  it('cuts long values with an ellipsis', () => {
    const out = code('n'.repeat(500), 300);
    assert.equal(out.length, 302);
    assert.ok(out.endsWith('…`'));
  });

  it('keeps a 253-character Kubernetes name whole', () => {
    const name = 'a'.repeat(253);
    assert.equal(code(name), '`' + name + '`');
  });

  it('renders an empty value visibly', () => {
    assert.equal(code('  '), '(empty)');
  });
});

describe('codeBlock', () => {
  it('fences escaped text', () => {
    assert.equal(codeBlock('exit 1 & <@U123>\n'), '```exit 1 &amp; &lt;@U123&gt;```');
  });

  it('a message full of backticks cannot break out of the block', () => {
    const out = codeBlock('```\n*bold* <!here>\n```` more `x`');
    assert.ok(out.startsWith('```') && out.endsWith('```'));
    const inner = out.slice(3, -3);
    assert.equal(inner.includes('`'), false, inner);
    assert.ok(inner.includes('&lt;!here&gt;'));
  });

  it('gives nothing for an empty message', () => {
    assert.equal(codeBlock(' \n '), '');
  });
});

describe('link', () => {
  it('links http and https URLs, escaping the label', () => {
    assert.equal(link('https://github.com/org/app', 'a<b>'), '<https://github.com/org/app|a&lt;b&gt;>');
    assert.equal(link('http://git.example/x', 'x'), '<http://git.example/x|x>');
  });

  it('escapes & inside the URL', () => {
    assert.equal(link('https://x.example/?a=1&b=2', 'q'), '<https://x.example/?a=1&amp;b=2|q>');
  });

  it('only shows the escaped label for anything else', () => {
    for (const url of [
      'javascript:alert(1)',
      'ftp://x.example/',
      'git@github.com:org/app.git',
      'https://x.example/a b',
      'https://x.example/a|<!channel>',
      'https://x.example/>',
      'https://x.example/<@U1>',
      'https://x.example/\n',
      'https://',
      '',
    ]) {
      assert.equal(isLinkableUrl(url), false, url);
      assert.equal(link(url, '<!channel>'), '&lt;!channel&gt;', url);
    }
  });

  it('keeps | and line breaks out of the label', () => {
    assert.equal(link('https://x.example', 'a|b\nc'), '<https://x.example|a b c>');
  });
});

describe('fitMrkdwn', () => {
  it('leaves text within the limit alone', () => {
    assert.equal(fitMrkdwn('abc', 3), 'abc');
  });

  it('cuts to the limit with a marker that counts what is left out', () => {
    const out = fitMrkdwn('x'.repeat(5000), 3000);
    assert.ok(out.length <= 3000, `${out.length}`);
    const kept = out.indexOf('\n');
    assert.equal(out.slice(kept + 1), truncationMarker(5000 - kept));
  });

  it('never leaves half an entity or half a link, and closes an open code block', () => {
    const texts = [
      '```' + escapeMrkdwn('<!channel> & '.repeat(40)) + '``` tail',
      ('see ' + link('https://x.example/a?b=1&c=2', 'a <label>') + ' ').repeat(20),
    ];
    for (let max = 60; max < 200; max++) for (const text of texts) {
      const out = fitMrkdwn(text, max);
      assert.ok(out.length <= max, `${max}: ${out.length}`);
      const kept = out.slice(0, out.lastIndexOf('\n'));
      assert.doesNotMatch(kept, /&(?!amp;|lt;|gt;)/, kept);
      assert.equal((kept.match(/```/g)?.length ?? 0) % 2, 0, kept);
      assert.ok(kept.lastIndexOf('<') <= kept.lastIndexOf('>'), kept);
    }
  });

  it('never splits a surrogate pair', () => {
    for (let max = 60; max < 70; max++) {
      assert.doesNotMatch(fitMrkdwn('🚀'.repeat(100), max), LONE_SURROGATE);
    }
  });
});
