// Text that other parties control (providers' GPU models and regions, containers' output, renters' env values):
// control characters are refused in identifiers and labels, and neutralised before a terminal shows anything.

// Controls, plus bidirectional overrides and isolates (they reorder what a terminal shows: "Trojan Source") and the
// Unicode line and paragraph separators.
// eslint-disable-next-line no-control-regex
const NEUTRALISE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** True when `text` is safe as an identifier or label: no control characters and no bidirectional or line formatting. */
export function isPrintableLabel(text: string): boolean {
  // One regular expression: this runs for every GPU of every heartbeat.
  return !NEUTRALISE.test(text);
}

/** `\x1b` style for a code unit that must not reach a terminal. */
function visible(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

export interface TerminalTextOptions {
  /** Keep line feeds and tabs (logs, multi-line listings); otherwise they are shown as \x0a / \x09 too. */
  multiline?: boolean;
  /** Keep SGR colour/weight sequences this program emits itself (only the few chalk's basic colours use). */
  keepOwnColors?: boolean;
}

// What chalk at level 1 writes for bold, dim, red, green, yellow, cyan and grey, and their resets.
// eslint-disable-next-line no-control-regex
const OWN_SGR = /^\u001b\[(?:1|2|22|31|32|33|36|39|90)m/;

/**
 * Makes text safe to print to a terminal: every control character (ESC, BEL, CR, backspace, C1 CSI, …) and every
 * bidirectional override is shown as a visible escape such as `\x1b`, so no sequence can move the cursor, clear the
 * screen, set the window title, write the clipboard or hide text. CRLF becomes LF when multi-line.
 */
export function toTerminalText(text: string, options: TerminalTextOptions = {}): string {
  if (!NEUTRALISE.test(text)) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (!NEUTRALISE.test(ch)) out += ch;
    else if (options.multiline && (ch === '\n' || ch === '\t')) out += ch;
    else if (options.multiline && ch === '\r' && text[i + 1] === '\n') continue;
    else {
      const own = options.keepOwnColors && ch === '\u001b' ? OWN_SGR.exec(text.slice(i, i + 5)) : null;
      if (own) {
        out += own[0];
        i += own[0].length - 1;
      } else out += visible(ch);
    }
  }
  return out;
}
