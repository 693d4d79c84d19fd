// The commands of `planrun`, loaded lazily so that `planrun validate` never pays
// for the runtime, browser or reporters at start-up.
// To add a command: create src/cli/commands/<name>.ts exporting `command: Command`
// and add an entry here. Keep heavy imports inside the command's run() or its module.
import type { Command } from '../command.js';

export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

export const commands: CommandEntry[] = [
  { name: 'run', summary: 'Run a plan and write its reports', load: async () => (await import('./run.js')).command },
  { name: 'validate', summary: 'Check a plan and print its roles, barriers and steps', load: async () => (await import('./validate.js')).command },
  { name: 'graph', summary: 'Show who waits for whom per round, as text or Mermaid; check for deadlocks', load: async () => (await import('./graph.js')).command },
  { name: 'schema', summary: 'Print the JSON Schema of plan files', load: async () => (await import('./schema.js')).command },
  { name: 'agent', summary: 'Run the workers that runs started with --redis hand out', load: async () => (await import('./agent.js')).command },
  { name: 'report', summary: 'Re-render HTML, JUnit and Markdown reports from a saved report.json', load: async () => (await import('./report.js')).command },
];
