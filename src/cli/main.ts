#!/usr/bin/env node
// planrun's entry point: `planrun <command> …`, or `planrun <plan.yml>` for
// `planrun run <plan.yml>`. Commands load lazily (see commands/index.ts).
import { readFileSync } from 'node:fs';
import { commands } from './commands/index.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function help(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `planrun ${version()} — declarative test plans: coordinated workers, HTTP and browser steps, crawls

Usage:
  planrun <plan.yml> [options]      same as: planrun run <plan.yml>
  planrun <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Options:
  -h, --help       Show help (planrun <command> --help for a command's options)
  -v, --version    Show the version

Exit codes: 0 passed, 1 run failed, 2 invalid plan or usage, 130 interrupted.`;
}

export async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const out = first === undefined ? process.stderr : process.stdout;
    out.write(`${help()}\n`);
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === '-v') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  let entry = commands.find((c) => c.name === first);
  let args = rest;
  if (!entry && /\.ya?ml$/i.test(first)) {
    entry = commands.find((c) => c.name === 'run');
    args = argv;
    if (!entry) {
      process.stderr.write('planrun: the run command is not available in this build\n');
      return 2;
    }
  }
  if (!entry) {
    process.stderr.write(`planrun: unknown command \`${first}\`\n\n${help()}\n`);
    return 2;
  }
  const command = await entry.load();
  return command.run(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`planrun: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
