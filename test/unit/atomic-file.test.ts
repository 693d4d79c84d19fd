// writeFileAtomic: a reader sees the old complete content or the new complete
// content, never a mix or a truncated file; failures and early exits leave no
// temporary file behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../../src/io/atomic-file.js';

const ATOMIC = fileURLToPath(new URL('../../src/io/atomic-file.ts', import.meta.url));
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'planrun-atomic-'));
});
after(() => rm(dir, { recursive: true, force: true }));

test('a reader during the write sees the old or the new content, whole', { timeout: 60_000 }, async () => {
  const file = join(dir, 'report.json');
  // Bigger than one write chunk (512 KiB), so a plain writeFile shows a reader an emptied or half-written file.
  const old = 'o'.repeat(24 << 20);
  const next = 'n'.repeat(24 << 20);
  await writeFile(file, old);
  let writing = true;
  const written = writeFileAtomic(file, next).finally(() => (writing = false));
  const seen = new Map<string, number>();
  while (writing) {
    const text = await readFile(file, 'utf8');
    const what = text === old ? 'old' : text === next ? 'new' : `other (${text.length} characters)`;
    seen.set(what, (seen.get(what) ?? 0) + 1);
  }
  await written;
  assert.deepEqual(
    [...seen.keys()].filter((k) => k !== 'old' && k !== 'new'),
    [],
    'never anything but the old or the new content',
  );
  assert.ok((seen.get('old') ?? 0) >= 1, 'the reader ran while the write was under way');
  assert.equal(await readFile(file, 'utf8'), next);
  assert.deepEqual(await readdir(dir), ['report.json'], 'no temporary file left');
});

test('creates the folder; a failed write keeps the old target, removes its temporary file and says which file', { timeout: 10_000 }, async () => {
  const sub = join(dir, 'nested', 'deeper');
  await writeFileAtomic(join(sub, 'summary.md'), 'hello\n');
  assert.equal(await readFile(join(sub, 'summary.md'), 'utf8'), 'hello\n');
  // A folder where the file should go: the rename fails after the temporary file was written.
  const blocked = join(sub, 'report.html');
  await mkdir(blocked);
  await writeFile(join(blocked, 'inside'), 'kept');
  await assert.rejects(writeFileAtomic(blocked, '<html></html>'), (e: Error) => {
    assert.match(
      e.message,
      new RegExp(`^Could not write ${blocked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*(EISDIR|ENOTEMPTY|EEXIST).*\\. Check that its folder is writable\\.$`),
    );
    return true;
  });
  assert.deepEqual((await readdir(sub)).sort(), ['report.html', 'summary.md']);
  assert.equal(await readFile(join(blocked, 'inside'), 'utf8'), 'kept');
});

test('a process that exits in the middle of a write leaves the old content and no temporary file', { timeout: 30_000 }, async () => {
  const sub = join(dir, 'exit');
  await mkdir(sub);
  const file = join(sub, 'report.json');
  await writeFile(file, 'old\n');
  // Exits (as a second Ctrl-C does) as soon as the bytes of a 64 MiB write start landing in the folder.
  const script = `
    import { readdirSync, statSync } from 'node:fs';
    import { join } from 'node:path';
    import { writeFileAtomic } from ${JSON.stringify(ATOMIC)};
    const dir = ${JSON.stringify(sub)};
    void writeFileAtomic(join(dir, 'report.json'), 'x'.repeat(64 << 20));
    setInterval(() => {
      if (readdirSync(dir).some((f) => statSync(join(dir, f), { throwIfNoEntry: false })?.size > 4)) process.exit(130);
    }, 1);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'inherit', 'inherit'] });
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 130);
  assert.deepEqual(await readdir(sub), ['report.json']);
  assert.equal(await readFile(file, 'utf8'), 'old\n');
});
