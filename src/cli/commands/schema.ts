// `planrun schema`: print the plan JSON Schema (for editors and other tools).
import type { Command } from '../command.js';

export const command: Command = {
  name: 'schema',
  summary: 'Print the JSON Schema of plan files',
  usage: `Usage: planrun schema

Prints the JSON Schema (draft-07) that plan files are validated against.
Editors can use it too: put
  # yaml-language-server: $schema=<path>/schemas/plan.schema.json
at the top of a plan.`,
  async run(argv) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${command.usage}\n`);
      return 0;
    }
    if (argv.length > 0) {
      process.stderr.write(`planrun schema: unexpected argument \`${argv[0]}\`\n\n${command.usage}\n`);
      return 2;
    }
    const { schemaText } = await import('../../plan/schema.js');
    process.stdout.write(schemaText().endsWith('\n') ? schemaText() : `${schemaText()}\n`);
    return 0;
  },
};
