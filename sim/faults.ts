/**
 * Fault switches set through the control API and read by the DDP server and connections.
 */
export class Faults {
  /** Stop answering client pings and stop sending server pings; sockets stay open. */
  ignorePings = false;
  /** Delay applied to every outbound DDP frame, in ms (order is preserved). */
  frameDelayMs = 0;
  private refuseUntil = 0;
  private readonly methodDelays = new Map<string, number>();

  /** Every later call of `method` takes `ms` longer before it runs (0 removes the delay). */
  slowMethod(method: string, ms: number): void {
    if (ms > 0) {
      this.methodDelays.set(method, ms);
    } else {
      this.methodDelays.delete(method);
    }
  }

  methodDelayMs(method: string): number {
    return this.methodDelays.get(method) ?? 0;
  }

  /** New WebSocket upgrades get HTTP 503 for `ms` milliseconds from now. */
  refuseConnections(ms: number): void {
    this.refuseUntil = Date.now() + Math.max(0, ms);
  }

  isRefusing(): boolean {
    return Date.now() < this.refuseUntil;
  }
}
