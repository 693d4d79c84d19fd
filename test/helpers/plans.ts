// Plan texts more than one test file runs. The writer-and-readers plan is the
// seed of the coordination tests: one writer (worker 4) appends a line per
// round to a pad, four readers read it back after the "written" barrier, and
// the writer writes the next round only after every reader signalled "read".

export interface WriterReadersOptions {
  /** The pad server's URL (test/helpers/run-helpers.ts startPad). */
  target: string;
  rounds?: number;
  /** The pad's id; ids starting with `fail-` refuse writes with 500. Default: one pad per run. */
  padId?: string;
  onError?: string;
  waitTimeout?: string;
}

export const writerReadersPlan = (o: WriterReadersOptions) => `
name: writer and readers
target: ${o.target}
workers: 5
rounds: ${o.rounds ?? 3}
waitTimeout: ${o.waitTimeout ?? '30s'}
${o.onError ? `onError: ${o.onError}` : ''}
roles: { writer: { workers: [4] }, reader: { rest: true } }
barriers:
  written: { signal: writer, wait: reader, scope: round }
  read: { signal: reader, wait: writer, scope: previous-round }
vars: { pad: "${o.padId ?? 'p-{{ run.id }}'}" }
scenario:
  writer:
    - wait: read
    - name: write
      request:
        method: POST
        url: /pads/{{ vars.pad }}/lines
        json: { text: "round {{ round }} by {{ worker.id }}" }
        expect: { status: 201 }
        capture: { n: { json: n } }
    - signal: written
  reader:
    - wait: written
    - name: read
      request: { url: "/pads/{{ vars.pad }}/lines/{{ round }}", capture: { text: { json: text } } }
    - name: check
      expect: { value: "{{ captures.text }}", is: { matches: "^round \\\\d+ by \\\\d+$" } }
    - name: same round
      expect: { value: "{{ captures.text == 'round ' + round + ' by 4' }}", is: true }
    - signal: read
`;
