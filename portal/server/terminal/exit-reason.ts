/**
 * Why a shell ended, from what the gateway can see: the exit of the attaching process
 * (ShellStream.onExit) and the last bytes it printed.
 *
 * A tmux client says goodbye on its terminal as it exits, and that line is the only
 * place the reason shows (measured with tmux 3.3a, attached through node-pty):
 *   `exit` typed / Ctrl-D   bash prints "exit", then tmux "[exited]"       exit code 0
 *   kill -9 of the bash     "[exited]" alone                              exit code 0
 *   kill -9 of tmux server  "[server exited unexpectedly]" ("[lost server]") exit code 1
 *   the client killed       "[terminated]"; "[detached ...]" when detached
 * The shell's own exit status never reaches the client. Bash's "exit" line can lose
 * the race with the pane closing, so "[exited]" without it is ENDED (exited or killed),
 * never a guess at "killed". A stream that says nothing (tmux-control.ts: a closed
 * pane is exit code 0; the control client lost, e.g. its tmux server killed, is 1)
 * ended cleanly → ENDED, or abnormally → LOST: the connection to the session is gone,
 * which need not mean the server was killed, so it is not called that.
 */
import { EXIT_REASON, ExitReason } from '../../shared/protocol';

/** How much of the output's end is kept per session to read the goodbye from. */
export const EXIT_TAIL_BYTES = 512;

// CSI/OSC/charset escapes: the goodbye comes wrapped in tmux's terminal reset.
const ESCAPES = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[()*+][0-~]|[=>78cDEHM])/g;

export function exitReason(tail: string, code: number | null): ExitReason {
  const text = tail.replace(ESCAPES, '');
  if (/\[(?:server exited[^\]\n]*|lost server)\]\s*$/.test(text)) return EXIT_REASON.SESSION_KILLED;
  if (/\[(?:detached[^\]\n]*|terminated)\]\s*$/.test(text)) return EXIT_REASON.DETACHED;
  if (/\[exited\]\s*$/.test(text)) return /(?:^|\n)exit\r?\n[^\n]*\[exited\]\s*$/.test(text) ? EXIT_REASON.EXIT : EXIT_REASON.ENDED;
  if (code === 0) return EXIT_REASON.ENDED;
  return code === null ? EXIT_REASON.UNKNOWN : EXIT_REASON.LOST;
}
