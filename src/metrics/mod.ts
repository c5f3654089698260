/**
 * Metrics without a global registry, exposed as Prometheus text.
 * @module
 */
export {
  Counter,
  Gauge,
  Histogram,
  type LabelValues,
  LATENCY_BUCKETS_S,
  Metrics,
} from "./metrics.ts";
