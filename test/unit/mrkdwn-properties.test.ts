/**
 * Property tests of the mrkdwn escaping (issue 8, item 5): for ANY string from the cluster,
 * what src/machines/mrkdwn.ts returns cannot ping anyone or link anywhere, is as long as
 * documented, and cuts only where it says. fast-check generates the strings, biased towards
 * the characters that matter here (`&`, `<`, `>`, `|`, backticks, line breaks, surrogate
 * pairs) and Slack's special sequences; a failing case is shrunk and printed with its seed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  BACKTICK_STANDIN,
  ELLIPSIS,
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

const RUNS = { numRuns: 200 };

// A random seed each run explores new strings (a failure prints its seed: FC_SEED=<seed> replays
// it); the mutation run sets FC_SEED so every mutant meets the same strings.
if (process.env['FC_SEED'] !== undefined) fc.configureGlobal({ seed: Number(process.env['FC_SEED']) });

/** Pieces a hostile annotation or container message would use. */
const hostilePiece = fc.constantFrom(
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U024BE7LH>',
  '<#C024BE7LH>',
  '<!subteam^S123>',
  '<https://evil.example|click>',
  '<mailto:a@b.c|mail>',
  '&',
  '&amp;',
  '&lt;',
  '<',
  '>',
  '|',
  '`',
  '```',
  '\n',
  '\r\n',
  '\t',
  ' ',
  '😀',
  '\uD83D', // a lone high surrogate
  '\uDE00', // a lone low surrogate
  'é',
  'x',
);

/** Strings of any code units, and strings assembled from hostile pieces. */
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 80 }), fc.array(hostilePiece, { maxLength: 30 }).map((parts) => parts.join('')));

/** Slack's control sequences: a mention, a channel or user reference, a link. */
const ACTIVE = /<[!@#]|<[a-z][a-z0-9+.-]*:/i;

/** Every `&` starts one of the three entities Slack decodes. */
function onlyWholeEntities(s: string): boolean {
  return !s.replace(/&(?:amp|lt|gt);/g, '').includes('&');
}

function unescape(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function codePoints(s: string): number {
  return [...s].length;
}

describe('escapeMrkdwn: properties', () => {
  it('no output contains `<` or `>`, so no mention, channel reference or link can be active', () => {
    fc.assert(
      fc.property(text, (s) => {
        const out = escapeMrkdwn(s);
        assert.ok(!out.includes('<') && !out.includes('>'), out);
        assert.ok(!ACTIVE.test(out), out);
      }),
      RUNS,
    );
  });

  it('every `&` in the output starts a whole entity', () => {
    fc.assert(fc.property(text, (s) => assert.ok(onlyWholeEntities(escapeMrkdwn(s)), escapeMrkdwn(s))), RUNS);
  });

  it('decoding the output as Slack does gives the input back (nothing lost, nothing added)', () => {
    fc.assert(fc.property(text, (s) => assert.equal(unescape(escapeMrkdwn(s)), s)), RUNS);
  });

  it('text without `&`, `<`, `>` is unchanged', () => {
    fc.assert(
      fc.property(text, (s) => {
        const plain = s.replace(/[&<>]/g, '');
        assert.equal(escapeMrkdwn(plain), plain);
      }),
      RUNS,
    );
  });

  it('escapedLength is the length of the escaped text, at most 5 times the input', () => {
    fc.assert(
      fc.property(text, (s) => {
        assert.equal(escapedLength(s), escapeMrkdwn(s).length);
        assert.ok(escapedLength(s) <= 5 * s.length);
      }),
      RUNS,
    );
  });
});

describe('clipRaw: properties', () => {
  const budget = fc.integer({ min: -5, max: 120 });

  it('keeps a prefix whose escaped form fits the budget, and counts the code points left out', () => {
    fc.assert(
      fc.property(text, budget, (s, max) => {
        const { text: kept, omitted } = clipRaw(s, max);
        assert.ok(s.startsWith(kept));
        assert.ok(escapedLength(kept) <= Math.max(0, max));
        assert.equal(codePoints(kept) + omitted, codePoints(s));
      }),
      RUNS,
    );
  });

  it('keeps as much as fits: the next code point would not', () => {
    fc.assert(
      fc.property(text, budget, (s, max) => {
        const { text: kept, omitted } = clipRaw(s, max);
        if (omitted === 0) {
          assert.equal(kept, s);
          return;
        }
        const next = [...s.slice(kept.length)][0]!;
        assert.ok(escapedLength(kept) + escapedLength(next) > Math.max(0, max));
      }),
      RUNS,
    );
  });

  it('never cuts a surrogate pair in two', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('😀', 'a', '&', '<'), { maxLength: 20 }).map((p) => p.join('')), budget, (s, max) => {
        const kept = clipRaw(s, max).text;
        assert.ok(!/[\uD800-\uDBFF]$/.test(kept), JSON.stringify(kept));
      }),
      RUNS,
    );
  });

  it('a fractional budget is rounded down', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 100 }), (s, max) => {
        assert.deepEqual(clipRaw(s, max + 0.5), clipRaw(s, max));
      }),
      RUNS,
    );
  });
});

describe('escapeClipped: properties', () => {
  it('the output is escaped and within maxLength (at least the ellipsis)', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 0, max: 100 }), (s, max) => {
        const out = escapeClipped(s, max);
        assert.ok(!out.includes('<') && !out.includes('>'), out);
        assert.ok(out.length <= Math.max(max, ELLIPSIS.length), `${out.length} > ${max}`);
      }),
      RUNS,
    );
  });

  it('what fits is only escaped; what does not ends with the ellipsis after an escaped prefix', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 100 }), (s, max) => {
        const out = escapeClipped(s, max);
        if (escapedLength(s) <= max) {
          assert.equal(out, escapeMrkdwn(s));
        } else {
          assert.ok(out.endsWith(ELLIPSIS));
          assert.ok(s.startsWith(unescape(out.slice(0, -ELLIPSIS.length))));
        }
      }),
      RUNS,
    );
  });
});

describe('code and codeBlock: properties', () => {
  it('inline code is one span: two backticks, no line break, nothing active, within maxLength plus its backticks', () => {
    fc.assert(
      fc.property(text, fc.integer({ min: 1, max: 120 }), (s, max) => {
        const out = code(s, max);
        if (out === '(empty)') {
          assert.equal(s.replace(/[\r\n\t]+/g, ' ').trim(), '');
          return;
        }
        assert.ok(out.startsWith('`') && out.endsWith('`'), out);
        assert.equal(out.split('`').length - 1, 2, out);
        assert.ok(!/[\r\n\t]/.test(out), out);
        assert.ok(!out.includes('<') && !out.includes('>'), out);
        assert.ok(out.length <= max + 2, `${out.length} > ${max} + 2`);
      }),
      RUNS,
    );
  });

  it('inline code keeps the text (backticks as look-alikes, line breaks as spaces) when it fits', () => {
    fc.assert(
      fc.property(text, (s) => {
        const flat = s.replaceAll('`', BACKTICK_STANDIN).replace(/[\r\n\t]+/g, ' ');
        fc.pre(flat.trim() !== '' && escapedLength(flat) <= 300);
        assert.equal(code(s), '`' + escapeMrkdwn(flat) + '`');
      }),
      RUNS,
    );
  });

  it('a code block has backticks only in its two fences, nothing active, and no trailing blank', () => {
    fc.assert(
      fc.property(text, (s) => {
        const out = codeBlock(s);
        if (out === '') {
          assert.equal(s.trimEnd(), '');
          return;
        }
        assert.ok(out.startsWith('```') && out.endsWith('```'), out);
        const body = out.slice(3, -3);
        assert.ok(!body.includes('`'), out);
        assert.ok(!body.includes('<') && !body.includes('>'), out);
        assert.ok(!/\s$/u.test(body), JSON.stringify(out));
        assert.equal(unescape(body), s.replaceAll('`', BACKTICK_STANDIN).replace(/\s+$/u, ''));
      }),
      RUNS,
    );
  });
});

describe('link: properties', () => {
  const url = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    text,
    fc.tuple(fc.constantFrom('http://', 'https://', 'HTTPS://', 'javascript:', 'ftp://', ''), text).map(([a, b]) => a + b),
  );

  it('the only `<` and `>` are those of the link itself, around an http(s) URL', () => {
    fc.assert(
      fc.property(url, text, (u, label) => {
        const out = link(u, label);
        if (!isLinkableUrl(u)) {
          assert.ok(!out.includes('<') && !out.includes('>'), out);
          return;
        }
        assert.match(out, /^<https?:\/\/[^<>|\s]+\|[^<>|]*>$/iu);
      }),
      RUNS,
    );
  });

  it('no mention or channel reference can come out, whatever the URL and the label', () => {
    fc.assert(
      fc.property(url, text, (u, label) => {
        assert.ok(!/<[!@#]/.test(link(u, label)), link(u, label));
      }),
      RUNS,
    );
  });

  it('the label is always shown, on one line, without `|`', () => {
    fc.assert(
      fc.property(url, text, (u, label) => {
        const out = link(u, label);
        const shown = isLinkableUrl(u) ? out.slice(out.indexOf('|') + 1, -1) : out;
        assert.equal(unescape(shown), label.replace(/[\r\n|]+/g, ' '));
      }),
      RUNS,
    );
  });

  it('a linkable URL has no whitespace, control character, `|`, `<`, `>` or backtick and is http(s)', () => {
    fc.assert(
      fc.property(url, (u) => {
        if (!isLinkableUrl(u)) return;
        assert.match(u, /^https?:\/\//i);
        assert.ok(!/[\s|<>`\p{Cc}]/u.test(u), u);
      }),
      RUNS,
    );
  });
});

describe('fitMrkdwn: properties', () => {
  /** Already-rendered mrkdwn: escaped values, code spans and blocks, line breaks. */
  const rendered = fc
    .array(
      fc.oneof(
        text.map(escapeMrkdwn),
        text.map((s) => code(s, 40)),
        text.map(codeBlock),
        fc.constant('\n'),
        fc.constant('*bold* '),
      ),
      { maxLength: 25 },
    )
    // Line breaks between the parts, as messages have them: two code spans side by side would
    // otherwise make a run of backticks that reads as a fence.
    .map((parts) => parts.join('\n'));

  it('text within the limit is unchanged', () => {
    fc.assert(
      fc.property(rendered, (s) => assert.equal(fitMrkdwn(s, s.length), s)),
      RUNS,
    );
  });

  it('longer text is cut to the limit, with the marker counting what was left out', () => {
    fc.assert(
      fc.property(rendered, fc.integer({ min: 60, max: 400 }), (s, max) => {
        fc.pre(s.length > max);
        const out = fitMrkdwn(s, max);
        assert.ok(out.length <= max, `${out.length} > ${max}`);
        const cut = out.slice(0, out.lastIndexOf('\n'));
        // The kept prefix of the input, plus a closing fence when the cut left a code block open.
        const prefixes = cut.endsWith('```') ? [cut, cut.slice(0, -3)] : [cut];
        assert.ok(
          prefixes.some((kept) => s.startsWith(kept) && out === `${cut}\n${truncationMarker(codePoints(s.slice(kept.length)))}`),
          JSON.stringify({ s, out }),
        );
      }),
      RUNS,
    );
  });

  it('a cut keeps as much as fits: it gives back at most a partial entity and half a surrogate pair', () => {
    fc.assert(
      fc.property(rendered, fc.integer({ min: 60, max: 400 }), (s, max) => {
        fc.pre(s.length > max);
        const out = fitMrkdwn(s, max);
        const cut = out.slice(0, out.lastIndexOf('\n'));
        const room = max - (truncationMarker(s.length).length + 1 + 3);
        assert.ok(cut.length >= room - 5, `${cut.length} < ${room} - 5`);
      }),
      RUNS,
    );
  });

  it('a cut never leaves half an entity, an open `<`, a surrogate pair cut in two or an open code block', () => {
    fc.assert(
      fc.property(rendered, fc.integer({ min: 60, max: 400 }), (s, max) => {
        fc.pre(s.length > max);
        const out = fitMrkdwn(s, max);
        assert.ok(onlyWholeEntities(out), out);
        assert.ok(!out.includes('<'), out);
        // Where the input was cut (before any closing fence), a low surrogate must not follow a high one.
        let cut = out.slice(0, out.lastIndexOf('\n'));
        if (!s.startsWith(cut)) cut = cut.slice(0, -3);
        assert.ok(!(/[\uD800-\uDBFF]$/.test(cut) && /^[\uDC00-\uDFFF]/.test(s.slice(cut.length))), JSON.stringify(out));
        assert.equal((out.match(/```/g)?.length ?? 0) % 2, 0, out);
      }),
      RUNS,
    );
  });
});

describe('rules found by mutation testing (examples)', () => {
  it('isLinkableUrl: the http(s) scheme must start the URL', () => {
    assert.equal(isLinkableUrl('xhttps://evil.example'), false);
    assert.equal(isLinkableUrl('ftp://files.example/https://evil.example'), false);
    assert.equal(isLinkableUrl('https://evil.example'), true);
  });

  it('isLinkableUrl: a URL the WHATWG parser refuses is not linkable', () => {
    assert.equal(isLinkableUrl('http://['), false);
    assert.equal(isLinkableUrl('https://a:b:c'), false);
  });

  /** Room fitMrkdwn keeps for the text of `s` at `max`: the widest marker, its line break and a fence. */
  const room = (s: string, max: number) => max - (truncationMarker(s.length).length + 1 + 3);

  it('fitMrkdwn: plain text keeps exactly the room left by the marker', () => {
    const s = 'a'.repeat(300);
    const max = 100;
    const kept = room(s, max);
    assert.equal(fitMrkdwn(s, max), `${'a'.repeat(kept)}\n${truncationMarker(300 - kept)}`);
  });

  it('fitMrkdwn: a whole entity at the cut is kept', () => {
    const s = 'x&amp;' + 'b'.repeat(300);
    const max = room(s, 0) * -1 + 6;
    assert.ok(fitMrkdwn(s, max).startsWith('x&amp;\n'), fitMrkdwn(s, max));
  });

  it('fitMrkdwn: an entity cut in half is dropped whole, even right after the first character', () => {
    const s = 'x&amp;' + 'b'.repeat(300);
    const max = room(s, 0) * -1 + 3;
    assert.ok(fitMrkdwn(s, max).startsWith('x\n'), fitMrkdwn(s, max));
  });

  it('fitMrkdwn: an open `<` at the cut is dropped, even right after the first character', () => {
    const s = 'x<' + 'b'.repeat(300);
    const max = room(s, 0) * -1 + 10;
    assert.ok(fitMrkdwn(s, max).startsWith('x\n'), fitMrkdwn(s, max));
  });

  it('fitMrkdwn: a closed link before the cut is kept', () => {
    const s = '<https://a.example|a> ' + 'b'.repeat(300);
    const max = room(s, 0) * -1 + 40;
    assert.ok(fitMrkdwn(s, max).startsWith('<https://a.example|a> bbb'), fitMrkdwn(s, max));
  });
});
