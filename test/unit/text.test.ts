import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatSize } from '../../src/text/bytes.js';
import { painter, useColor, visibleLength } from '../../src/text/colour.js';
import { formatDuration, formatDurationCompact } from '../../src/text/duration.js';
import { nounFor, plural } from '../../src/text/plural.js';

describe('text', () => {
  it('formats durations for prose and files, with about three digits', () => {
    assert.deepEqual([undefined, null, 0, 1.25, 9.94, 10, 420.4, 999.4, 1000, 1234, 9994, 12_345, 125_000].map(formatDuration), [
      '–',
      '–',
      '0.0 ms',
      '1.3 ms',
      '9.9 ms',
      '10 ms',
      '420 ms',
      '999 ms',
      '1.00 s',
      '1.23 s',
      '9.99 s',
      '12.3 s',
      '125.0 s',
    ]);
  });

  it('formats durations compactly for terminal columns, in minutes past one', () => {
    assert.deepEqual([undefined, 1.234, 60, 420.4, 3010, 65_000, 119_600].map(formatDurationCompact), ['-', '1.23ms', '60.0ms', '420ms', '3.01s', '1m05s', '2m00s']);
  });

  it('formats sizes in binary units', () => {
    assert.deepEqual([0, 1023, 1024, 1536, 1024 ** 2, 1.25 * 1024 ** 3].map(formatSize), ['0 B', '1023 B', '1 KiB', '1.5 KiB', '1 MiB', '1.3 GiB']);
  });

  it('counts nouns', () => {
    assert.deepEqual(
      [plural(0, 'round'), plural(1, 'round'), plural(2, 'round'), plural(2, 'match', 'matches'), nounFor(1, 'worker'), nounFor(3, 'worker')],
      ['0 rounds', '1 round', '2 rounds', '2 matches', 'worker', 'workers'],
    );
  });

  it('paints one style or several in one escape, and nothing when colour is off', () => {
    const paint = painter(true);
    assert.equal(paint('red', 'x'), '\u001b[31mx\u001b[39m');
    assert.equal(paint(['red', 'bold'], 'error'), '\u001b[31;1merror\u001b[39;22m');
    assert.equal(paint(['bold', 'dim'], 'y'), '\u001b[1;2my\u001b[22m');
    assert.equal(`a${paint('dim', `b${paint('red', 'c')}d`)}`, 'a\u001b[2mb\u001b[31mc\u001b[39md\u001b[22m');
    assert.equal(painter(false)(['red', 'bold'], 'error'), 'error');
    assert.equal(visibleLength(paint(['red', 'bold'], 'error')), 5);
  });

  it('decides colour once: NO_COLOR wins, FORCE_COLOR forces, else a terminal that is not dumb', () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    assert.deepEqual(
      [
        useColor(tty, {}),
        useColor(tty, { NO_COLOR: '1' }),
        useColor(tty, { NO_COLOR: '', FORCE_COLOR: '0' }),
        useColor(tty, { NO_COLOR: '1', FORCE_COLOR: '1' }),
        useColor(tty, { TERM: 'dumb' }),
        useColor(pipe, {}),
        useColor(pipe, { FORCE_COLOR: '1' }),
        useColor(pipe, { FORCE_COLOR: 'false' }),
        useColor({}, { FORCE_COLOR: 'true' }),
      ],
      [true, false, true, false, false, false, true, false, true],
    );
  });
});
