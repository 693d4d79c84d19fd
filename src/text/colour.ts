// Terminal colour: the one ANSI painter every output uses, and the one policy
// deciding whether a stream gets colour.

export type Style = 'bold' | 'dim' | 'red' | 'green' | 'yellow' | 'cyan';
/** SGR codes that turn a style on and off; each off code ends only its own style, so styles nest. */
const CODES: Record<Style, [on: number, off: number]> = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };

/** Paints text in one style, or several at once (`['red', 'bold']`). */
export type Paint = (style: Style | readonly Style[], text: string) => string;

export function painter(color: boolean): Paint {
  if (!color) return (_style, text) => text;
  return (style, text) => {
    const styles = typeof style === 'string' ? [style] : style;
    const on = styles.map((s) => CODES[s][0]).join(';');
    const off = [...new Set(styles.map((s) => CODES[s][1]))].join(';');
    return `\u001b[${on}m${text}\u001b[${off}m`;
  };
}

// eslint-disable-next-line no-control-regex
const SGR = /\u001b\[[\d;]*m/g;

/** Characters a painted text takes on screen (its colour codes take none). */
export function visibleLength(text: string): number {
  return text.replace(SGR, '').length;
}

/**
 * Whether output to this stream is coloured. NO_COLOR (https://no-color.org), when
 * set and not empty, wins; FORCE_COLOR (not 0/false) forces; otherwise only a
 * terminal that is not TERM=dumb. A command's --color / --no-color go before this.
 */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (isSet(env.FORCE_COLOR)) return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/** An environment flag that is on: set, not empty, not 0 or false (CI, FORCE_COLOR). */
export function isSet(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}
