// `planrun agent --redis URL`: waits in Redis for runs of `planrun run --redis URL
// --agents N` and runs its share of their workers, one run after another, until
// Ctrl-C or SIGTERM. See docs/agents.md.
import { parseArgs } from 'node:util';
import type { Command } from '../command.js';

const usage = `Usage: planrun agent --redis URL [options]

Waits for runs started with \`planrun run plan.yml --redis URL --agents N\` and
runs the workers each run hands it, one run after another. Reconnects when
Redis goes away. Ctrl-C or SIGTERM stops the run in progress (its workers are
reported aborted) and exits.

The plan comes from whoever can write to the Redis: use a password or ACL user
(redis://user:password@host:6379) and rediss:// off this host.

Options:
  --redis URL     redis://, rediss:// or unix:// (default: $PLANRUN_REDIS_URL)
  --id ID         This agent's name in reports (default: <host>-<pid>)
  -h, --help      Show this help`;

export const command: Command = {
  name: 'agent',
  summary: 'Run the workers that runs started with --redis hand out',
  usage,
  async run(argv) {
    let values: { redis?: string; id?: string; help?: boolean };
    try {
      ({ values } = parseArgs({ args: argv, options: { redis: { type: 'string' }, id: { type: 'string' }, help: { type: 'boolean', short: 'h' } } }));
    } catch (err) {
      process.stderr.write(`planrun agent: ${(err as Error).message}\n\n${usage}\n`);
      return 2;
    }
    if (values.help) {
      process.stdout.write(`${usage}\n`);
      return 0;
    }
    const url = values.redis ?? process.env.PLANRUN_REDIS_URL;
    if (!url) {
      process.stderr.write(`planrun agent: give --redis URL\n\n${usage}\n`);
      return 2;
    }
    const [{ serveAgent }, { checkAgentId }] = await Promise.all([import('../../agents/agent.js'), import('../../agents/protocol.js')]);
    if (values.id !== undefined) {
      try {
        checkAgentId(values.id);
      } catch (err) {
        process.stderr.write(`planrun agent: ${(err as Error).message}\n`);
        return 2;
      }
    }
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A local agent of `planrun run --agents N` (no --redis) goes with its controller: its stdin ends when the controller dies.
    const local = process.env.PLANRUN_AGENT_LOCAL === '1';
    if (local) process.stdin.on('end', onSignal).on('close', onSignal).resume();
    try {
      await serveAgent({ url, ...(values.id ? { id: values.id } : {}), signal: stop.signal, log: (line) => process.stderr.write(`planrun ${line}\n`) });
      return 0;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (local) process.stdin.destroy();
    }
  },
};
