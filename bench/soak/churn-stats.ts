/**
 * What a soak client process counts (bench/soak/client-process.ts) and the soak adds up over all
 * of them (bench/soak/soak.ts). A module of its own: client-process.ts is a child's entry point,
 * which the parent must not import for a value.
 */
export interface ChurnStats {
  connections: number;
  /** Connections open now. */
  open: number;
  closedNormally: number;
  resets: number;
  drops: number;
  messages: number;
  /** Bytes echoed and verified. */
  bytes: number;
  pings: number;
  /** Unexpected failures (anything but the faults this side injected): count and first few. */
  failures: number;
  failureSamples: string[];
}

/** Counts at zero: where a client process starts, and where a sum does. */
export function emptyChurnStats(): ChurnStats {
  return {
    connections: 0,
    open: 0,
    closedNormally: 0,
    resets: 0,
    drops: 0,
    messages: 0,
    bytes: 0,
    pings: 0,
    failures: 0,
    failureSamples: [],
  };
}
