/**
 * Server-side DDP heartbeat (Meteor ddp-common `Heartbeat`, docs/simulator-protocol.md §1.2): after
 * `intervalMs` without any inbound frame the server sends `{"msg":"ping"}`; if nothing at all
 * arrives within `timeoutMs` after that, the connection is closed. Any inbound frame resets both.
 * (Meteor checks on a fixed interval, so its first ping comes 1–2 intervals after the last frame;
 * the simulator pings exactly one interval after it, which is easier to test against.)
 */

export interface HeartbeatHooks {
  sendPing(): void;
  onTimeout(): void;
  /** While true the server neither pings nor times out (fault `ignore-pings`). */
  isPaused(): boolean;
}

export class Heartbeat {
  private idleTimer: NodeJS.Timeout | undefined;
  private timeoutTimer: NodeJS.Timeout | undefined;
  /** The idle timer's current delay: shorter than `intervalMs` only before the first frame. */
  private idleDelayMs: number;

  constructor(
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly hooks: HeartbeatHooks,
  ) {
    this.idleDelayMs = intervalMs;
  }

  /** `firstIdleMs`: the first idle period, until the first inbound frame (the streamer's 30 ms). */
  start(firstIdleMs = this.intervalMs): void {
    this.idleDelayMs = firstIdleMs;
    this.idleTimer = setTimeout(() => this.idleElapsed(), firstIdleMs);
  }

  messageReceived(): void {
    if (this.timeoutTimer) {
      clearTimeout(this.timeoutTimer);
      this.timeoutTimer = undefined;
    }
    if (this.idleTimer && this.idleDelayMs !== this.intervalMs) {
      clearTimeout(this.idleTimer);
      this.idleDelayMs = this.intervalMs;
      this.idleTimer = setTimeout(() => this.idleElapsed(), this.intervalMs);
      return;
    }
    this.idleTimer?.refresh();
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.timeoutTimer);
    this.idleTimer = undefined;
    this.timeoutTimer = undefined;
  }

  private idleElapsed(): void {
    if (this.hooks.isPaused()) {
      this.idleTimer?.refresh();
      return;
    }
    this.hooks.sendPing();
    this.timeoutTimer = setTimeout(() => {
      this.timeoutTimer = undefined;
      if (this.hooks.isPaused()) {
        this.idleTimer?.refresh();
        return;
      }
      this.hooks.onTimeout();
    }, this.timeoutMs);
  }
}
