/**
 * A Prometheus exposition in its protobuf form (`application/vnd.google.protobuf;
 * proto=io.prometheus.client.MetricFamily; encoding=delimited`: MetricFamily messages, each after
 * its length as a varint), read for a few histograms only: their `_sum` and `_count` series, written
 * as the text exposition writes them (`name{label="value",...} value`), in the order of the
 * messages. The API server renders this form in half the time of its text and a fifth of the bytes
 * (BENCHMARKS.md, section 2, fourth part). Values are written as JavaScript numbers (`1.5e-5` may be
 * `0.000015`): the same numbers, parsed back.
 */

/** MetricFamily.type for a (classic) histogram. */
const HISTOGRAM = 4;

const utf8 = new TextDecoder();

class Reader {
  #at: number;
  readonly #view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    at: number,
    readonly end: number,
  ) {
    this.#at = at;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  more(): boolean {
    return this.#at < this.end;
  }

  /** A varint; exact below 2^53, which every count and length here is. */
  varint(): number {
    let value = 0;
    for (let scale = 1; ; scale *= 128) {
      if (this.#at >= this.end) throw new Error('protobuf: a varint runs past its message');
      const byte = this.bytes[this.#at++]!;
      value += (byte & 0x7f) * scale;
      if ((byte & 0x80) === 0) return value;
    }
  }

  double(): number {
    if (this.#at + 8 > this.end) throw new Error('protobuf: a double runs past its message');
    const value = this.#view.getFloat64(this.#at, true);
    this.#at += 8;
    return value;
  }

  /** A length-delimited field: its bytes' range. */
  range(): { from: number; to: number } {
    const length = this.varint();
    const from = this.#at;
    this.#at += length;
    if (this.#at > this.end) throw new Error('protobuf: a field runs past its message');
    return { from, to: this.#at };
  }

  string(): string {
    const { from, to } = this.range();
    return utf8.decode(this.bytes.subarray(from, to));
  }

  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 1) this.#at += 8;
    else if (wireType === 2) this.range();
    else if (wireType === 5) this.#at += 4;
    else throw new Error(`protobuf: wire type ${wireType} is not read here`);
    if (this.#at > this.end) throw new Error('protobuf: a field runs past its message');
  }
}

/** A label value as the text exposition escapes it. */
function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatValue(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** One Metric of a histogram family: its labels, sum and count, as two text lines. */
function histogramLines(bytes: Uint8Array, from: number, to: number, family: string, out: string[]): void {
  const metric = new Reader(bytes, from, to);
  const labels: string[] = [];
  let sum = 0;
  let count: number | undefined;
  let countFloat: number | undefined;
  while (metric.more()) {
    const key = metric.varint();
    if (key === (1 << 3) + 2) {
      const pair = metric.range();
      const label = new Reader(bytes, pair.from, pair.to);
      let name = '';
      let value = '';
      while (label.more()) {
        const k = label.varint();
        if (k === (1 << 3) + 2) name = label.string();
        else if (k === (2 << 3) + 2) value = label.string();
        else label.skip(k & 7);
      }
      labels.push(`${name}="${escapeLabelValue(value)}"`);
    } else if (key === (7 << 3) + 2) {
      const h = metric.range();
      const histogram = new Reader(bytes, h.from, h.to);
      while (histogram.more()) {
        const k = histogram.varint();
        if (k === (1 << 3) + 0) count = histogram.varint();
        else if (k === (2 << 3) + 1) sum = histogram.double();
        else if (k === (4 << 3) + 1) countFloat = histogram.double();
        else histogram.skip(k & 7);
      }
    } else {
      metric.skip(key & 7);
    }
  }
  const series = labels.length > 0 ? `{${labels.join(',')}}` : '';
  out.push(`${family}_sum${series} ${formatValue(sum)}`, `${family}_count${series} ${formatValue(count ?? countFloat ?? 0)}`);
}

/**
 * The `_sum` and `_count` lines of every histogram family named in `families`, from a delimited
 * protobuf exposition; the other families are skipped unread.
 */
export function protobufHistogramLines(bytes: Uint8Array, families: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const all = new Reader(bytes, 0, bytes.length);
  while (all.more()) {
    const message = all.range();
    const family = new Reader(bytes, message.from, message.to);
    let name: string | undefined;
    let type = 0;
    const metrics: Array<{ from: number; to: number }> = [];
    while (family.more()) {
      const key = family.varint();
      if (key === (1 << 3) + 2) {
        name = family.string();
        if (!families.has(name)) break;
      } else if (key === (3 << 3) + 0) type = family.varint();
      else if (key === (4 << 3) + 2) metrics.push(family.range());
      else family.skip(key & 7);
    }
    if (name === undefined || type !== HISTOGRAM || !families.has(name)) continue;
    for (const m of metrics) histogramLines(bytes, m.from, m.to, name, out);
  }
  return out;
}
