// One file per command under src/cli/commands/, each exporting a Command;
// src/cli/commands/index.ts lists them and main.ts dispatches.
export interface Command {
  name: string;
  /** One line for `planrun --help`. */
  summary: string;
  /** Full usage text for `planrun <name> --help`. */
  usage: string;
  /** Returns the process exit code. */
  run(argv: string[]): Promise<number>;
}
