/** One app's readings of one minute; plain data, so it travels on the bus as it is (`app.metrics`). */
export interface Minute {
  /** Epoch ms of the minute's start. */
  start: number;
  requests: number;
  byClass: [number, number, number, number];
  /** Counts per latency bin (LATENCY_BOUNDS_MS, then one bin for everything slower): quantiles of merged minutes stay exact to the bin. */
  latency: number[];
  memoryBytes: number | null;
  restarts: number;
}
