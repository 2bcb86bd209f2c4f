// The small parsers on their own: cron schedules, durations, the HCL variable scanner, suggestions.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseCron } from '../../src/time/cron.ts';
import { formatDuration, parseDuration } from '../../src/time/duration.ts';
import { parseHcl } from '../../src/config/hcl.ts';
import { readModule } from '../../src/config/terraform-module.ts';
import { didYouMean, distance } from '../../src/config/messages.ts';

test('cron: Coder-style schedules with CRON_TZ', () => {
  const r = parseCron('CRON_TZ=Europe/Berlin 30 9 * * 1-5');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.schedule.tz, 'Europe/Berlin');
  assert.equal(r.schedule.minutes, [30]);
  assert.equal(r.schedule.hours, [9]);
  assert.equal(r.schedule.weekdays, [1, 2, 3, 4, 5]);
  assert.is(r.schedule.days.length, 31);
  assert.is(r.schedule.domOrDow, false);
});

test('cron: steps, lists, names, Sunday as 7, default UTC', () => {
  const r = parseCron('*/15 8-18/2 1,15 jan-mar SUN,7');
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.schedule.tz, 'UTC');
  assert.equal(r.schedule.minutes, [0, 15, 30, 45]);
  assert.equal(r.schedule.hours, [8, 10, 12, 14, 16, 18]);
  assert.equal(r.schedule.days, [1, 15]);
  assert.equal(r.schedule.months, [1, 2, 3]);
  assert.equal(r.schedule.weekdays, [0]);
  assert.is(r.schedule.domOrDow, true);
  const s = parseCron('5/20 * * * *');
  assert.ok(s.ok && s.schedule.minutes.join() === '5,25,45');
});

test('cron: every mistake names its field', () => {
  const bad: [string, RegExp][] = [
    ['0 9 * *', /expected 5 fields .* got 4/],
    ['60 9 * * *', /minute field: 60 is out of range 0-59/],
    ['0 9 0 * *', /day-of-month field: 0 is out of range 1-31/],
    ['0 9 * 13 *', /month field: 13 is out of range 1-12/],
    ['0 9 * * 8', /day-of-week field: 8 is out of range 0-7/],
    ['0 9 * * MOX', /day-of-week field: "MOX" is not a number or one of SUN/],
    ['*/0 * * * *', /step must be at least 1/],
    ['0 17-9 * * *', /range 17-9 runs backwards/],
    ['0 9 * * 1-5 extra', /got 6/],
    ['CRON_TZ=Mars/Olympus 0 9 * * *', /unknown time zone/],
    ['TZ=UTC 0 9 * * *', /the only prefix is CRON_TZ=<zone>/],
    ['0 9 L * *', /not a number/],
  ];
  for (const [s, re] of bad) {
    const r = parseCron(s);
    assert.not.ok(r.ok, s);
    if (!r.ok) assert.match(r.message, re, s);
  }
});

test('durations', () => {
  assert.is(parseDuration('8h'), 8 * 3600_000);
  assert.is(parseDuration('1h30m'), 5400_000);
  assert.is(parseDuration('90s'), 90_000);
  assert.is(formatDuration(5400_000), '1h30m');
  assert.is(formatDuration(0), '0s');
  assert.is(formatDuration(3_661_000), '1h1m1s');
});

test('hcl: variables with types, defaults and lines; strings, comments and heredocs do not confuse it', () => {
  const text = `# variable "commented" {
/* variable "block_commented" {
} */
variable "a" {
  type = string
}

variable "b" { default = 1 }
locals {
  s = "variable \\"fake\\" { ${'${'}var.a} }"
  h = <<-EOT
    variable "in_heredoc" {
    }
  EOT
}
variable "c" {
  type    = list(string) // trailing
  default = ["x"]
  validation {
    condition     = length(var.c) > 0
    error_message = "needs one"
  }
}
resource "x" "y" {
  variable = "not a block"
}
`;
  const r = readModule('t', new Map([['main.tf', Buffer.from(text)]]));
  assert.equal(r.errors, []);
  assert.equal(
    [...r.variables.values()].map((v) => [v.name, v.line, v.hasDefault, v.type]),
    [
      ['a', 4, false, 'string'],
      ['b', 8, true, undefined],
      ['c', 16, true, 'list(string)'],
    ],
  );
});

test('hcl: unterminated things are reported with their position', () => {
  assert.equal(parseHcl('variable "a" {\n').error, { line: 2, col: 1, message: 'a block is not closed: missing "}"' });
  assert.equal(parseHcl('x = "abc\n').error, { line: 1, col: 5, message: 'unterminated string' });
  assert.equal(parseHcl('}\n').error, { line: 1, col: 1, message: 'unbalanced "}"' });
  assert.equal(parseHcl('a = <<EOT\nno end\n').error?.message, 'unterminated heredoc <<EOT');
  assert.equal(parseHcl('/* open\n').error?.message, 'unterminated /* comment');
});

test('suggestions: transpositions count once, far-off words get none', () => {
  assert.is(distance('emial', 'email'), 1);
  assert.is(distance('kitten', 'sitting'), 3);
  assert.is(didYouMean('emial', ['email', 'roles']), ' (did you mean "email"?)');
  assert.is(didYouMean('zzz', ['email', 'roles']), '');
  assert.is(didYouMean('Runing', ['running', 'stopped']), ' (did you mean "running"?)');
});

test.run();
