// Whether Redis still answers, judged by the heartbeat the controller and the
// agents write every second anyway. A network partition leaves a connection
// open and its commands unanswered: nothing fails by itself (TCP retransmits
// for many minutes), so without this a blocked read would wait for ever. Once
// no heartbeat has succeeded for LOST_AFTER_MS, Redis counts as gone and the
// owner destroys its connections, which fails every pending command at once.
// A connection that is down (refused, reset) is not silent: the client
// reconnects, bounded, and fails its commands with the reason (connect.ts).
import { HEARTBEAT_MS, LOST_AFTER_MS } from './protocol.js';

export class RedisLiveness {
  private timer: NodeJS.Timeout | undefined;
  /** When the last heartbeat that succeeded was sent. */
  private lastAnswered = Date.now();
  private suspect = false;
  /** Set once Redis counts as gone: the reason to report instead of the destroyed connections' errors. */
  lost: Error | undefined;

  constructor(
    /** Whether the connection is up: only then does silence mean a partition. */
    private readonly ready: () => boolean,
    private readonly beat: () => Promise<unknown>,
    private readonly onLost: (reason: Error) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.tick(), HEARTBEAT_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.lost) return;
    if (!this.ready()) this.lastAnswered = Date.now();
    if (Date.now() - this.lastAnswered > LOST_AFTER_MS) {
      // Twice in a row: after an event-loop stall, timers run before the replies that came meanwhile are read.
      if (this.suspect) {
        this.lost = new Error(`no answer from Redis for ${LOST_AFTER_MS / 1000}s`);
        this.stop();
        this.onLost(this.lost);
        return;
      }
      this.suspect = true;
    } else this.suspect = false;
    const sent = Date.now();
    // A failed heartbeat is retried by the next; only their silence counts.
    void this.beat().then(
      () => (this.lastAnswered = Math.max(this.lastAnswered, sent)),
      () => {},
    );
  }
}
