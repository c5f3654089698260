/**
 * Counters, gauges and histograms without a global registry: a node creates one `Metrics`
 * and passes it to whatever it instruments, so tests and embedded logs never share state.
 * `render()` writes the Prometheus text exposition format (version 0.0.4): one `# HELP` and
 * `# TYPE` line per family, label values escaped, histograms as cumulative `_bucket{le=...}`
 * series plus `_sum` and `_count`.
 *
 * Recording is allocation-free once a label set has been seen: series are looked up by a
 * string key built from the label values.
 */

/** Label values of one series, in the order of the family's label names. */
export type LabelValues = readonly string[];

/** Default latency buckets in seconds: 50 µs to 10 s. */
export const LATENCY_BUCKETS_S: readonly number[] = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  10,
];

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

abstract class Family<S> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  protected readonly series = new Map<string, { labels: LabelValues; value: S }>();

  constructor(name: string, help: string, labelNames: readonly string[]) {
    if (!NAME_RE.test(name)) throw new RangeError(`Invalid metric name "${name}"`);
    for (const l of labelNames) {
      if (!LABEL_RE.test(l) || l.startsWith("__")) {
        throw new RangeError(`Invalid label name "${l}"`);
      }
    }
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
  }

  protected get(labels: LabelValues, make: () => S): S {
    if (labels.length !== this.labelNames.length) {
      throw new RangeError(
        `Metric "${this.name}" takes ${this.labelNames.length} label values, got ${labels.length}`,
      );
    }
    const key = labels.join("\u0000");
    let s = this.series.get(key);
    if (!s) {
      s = { labels: [...labels], value: make() };
      this.series.set(key, s);
    }
    return s.value;
  }

  /** Drops every series (e.g. when the topic they describe is deleted). */
  remove(labels: LabelValues): void {
    this.series.delete(labels.join("\u0000"));
  }

  abstract render(out: string[]): void;

  protected labelText(labels: LabelValues, extra?: [string, string]): string {
    const parts = labels.map((v, i) => `${this.labelNames[i]}="${escapeLabel(v)}"`);
    if (extra) parts.push(`${extra[0]}="${escapeLabel(extra[1])}"`);
    return parts.length === 0 ? "" : `{${parts.join(",")}}`;
  }

  protected header(out: string[], type: string): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`);
    out.push(`# TYPE ${this.name} ${type}`);
  }
}

/** A monotonically increasing count. */
export class Counter extends Family<{ v: number }> {
  /** Adds `n` (>= 0) to the series with `labels`. */
  inc(labels: LabelValues = [], n = 1): void {
    if (!(n >= 0)) throw new RangeError(`Counter "${this.name}" cannot decrease`);
    this.get(labels, () => ({ v: 0 })).v += n;
  }

  /** The current value of a series (0 if never recorded). */
  value(labels: LabelValues = []): number {
    return this.series.get(labels.join("\u0000"))?.value.v ?? 0;
  }

  render(out: string[]): void {
    this.header(out, "counter");
    for (const s of this.series.values()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.v)}`);
    }
  }
}

/** A value that goes up and down; either set directly or read from a callback at render. */
export class Gauge extends Family<{ v: number }> {
  #collect: ((set: (labels: LabelValues, v: number) => void) => void) | null = null;

  /** Sets a series. */
  set(labels: LabelValues, v: number): void {
    this.get(labels, () => ({ v: 0 })).v = v;
  }

  /** Reads values at render time instead of being told them. */
  collect(fn: (set: (labels: LabelValues, v: number) => void) => void): this {
    this.#collect = fn;
    return this;
  }

  render(out: string[]): void {
    if (this.#collect) {
      this.series.clear();
      this.#collect((labels, v) => this.set(labels, v));
    }
    this.header(out, "gauge");
    for (const s of this.series.values()) {
      out.push(`${this.name}${this.labelText(s.labels)} ${num(s.value.v)}`);
    }
  }
}

interface HistogramState {
  counts: Float64Array;
  sum: number;
  count: number;
}

/** Observations counted into fixed buckets. */
export class Histogram extends Family<HistogramState> {
  readonly buckets: readonly number[];

  constructor(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[] = LATENCY_BUCKETS_S,
  ) {
    super(name, help, labelNames);
    for (let i = 1; i < buckets.length; i++) {
      if (!((buckets[i] as number) > (buckets[i - 1] as number))) {
        throw new RangeError(`Histogram "${name}" buckets must increase`);
      }
    }
    this.buckets = buckets;
  }

  /** Records one observation. */
  observe(labels: LabelValues, v: number): void {
    const s = this.get(
      labels,
      () => ({ counts: new Float64Array(this.buckets.length), sum: 0, count: 0 }),
    );
    // Linear scan: bucket lists are short, and the common (fast) values hit early buckets.
    for (let i = 0; i < this.buckets.length; i++) {
      if (v <= (this.buckets[i] as number)) {
        s.counts[i] = (s.counts[i] as number) + 1;
        break;
      }
    }
    s.sum += v;
    s.count++;
  }

  render(out: string[]): void {
    this.header(out, "histogram");
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.value.counts[i] as number;
        out.push(`${this.name}_bucket${this.labelText(s.labels, ["le", num(le)])} ${cumulative}`);
      });
      out.push(`${this.name}_bucket${this.labelText(s.labels, ["le", "+Inf"])} ${s.value.count}`);
      out.push(`${this.name}_sum${this.labelText(s.labels)} ${num(s.value.sum)}`);
      out.push(`${this.name}_count${this.labelText(s.labels)} ${s.value.count}`);
    }
  }
}

/** A set of metric families owned by one node (or one test). */
export class Metrics {
  #families = new Map<string, Family<unknown>>();

  /** Creates (or returns the existing) counter family. */
  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.#add(name, () => new Counter(name, help, labelNames), Counter);
  }

  /** Creates (or returns the existing) gauge family. */
  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.#add(name, () => new Gauge(name, help, labelNames), Gauge);
  }

  /** Creates (or returns the existing) histogram family. */
  histogram(
    name: string,
    help: string,
    labelNames: readonly string[] = [],
    buckets?: readonly number[],
  ): Histogram {
    return this.#add(name, () => new Histogram(name, help, labelNames, buckets), Histogram);
  }

  /** The Prometheus text exposition of every family. */
  render(): string {
    const out: string[] = [];
    for (const f of this.#families.values()) f.render(out);
    return out.join("\n") + "\n";
  }

  #add<T extends Family<unknown>>(
    name: string,
    make: () => T,
    kind: abstract new (...a: never[]) => T,
  ): T {
    const existing = this.#families.get(name);
    if (existing) {
      if (!(existing instanceof kind)) {
        throw new RangeError(`Metric "${name}" exists with another type`);
      }
      return existing;
    }
    const f = make();
    this.#families.set(name, f);
    return f;
  }
}

function escapeLabel(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll('"', '\\"');
}

function escapeHelp(v: string): string {
  return v.replaceAll("\\", "\\\\").replaceAll("\n", "\\n");
}

function num(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}
