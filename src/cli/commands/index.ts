// The commands of `planrun`, loaded lazily so that `planrun validate` never pays
// for the runtime, browser or reporters at start-up.
// To add a command: create src/cli/commands/<name>.ts exporting `command: Command`
// and add an entry here. Keep heavy imports inside the command's run() or its module.
// Still to be wired by the lead: run (src/cli/commands/run.ts), graph (src/cli/commands/graph.ts).
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'validate', summary: 'Check a plan and print its roles, barriers and steps', load: async () => (await import('./validate.js')).command },
  { name: 'schema', summary: 'Print the JSON Schema of plan files', load: async () => (await import('./schema.js')).command },
];
