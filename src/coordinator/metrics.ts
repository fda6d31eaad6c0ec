// Prometheus text exposition: request counters and a latency histogram kept in memory, plus gauges read at scrape time.
import { LEASE_STATES } from '../domain/lease-states.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly histograms = new Map<string, Histogram>();
  /** route → method → the series it updates, so a request costs map lookups rather than building label strings. */
  private readonly series = new Map<string, Map<string, { histogram: Histogram; statusKeys: Map<number, string> }>>();

  observe(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.series.get(route);
    if (!byMethod) {
      byMethod = new Map();
      this.series.set(route, byMethod);
    }
    let entry = byMethod.get(method);
    if (!entry) {
      const hkey = `method="${method}",route="${escape(route)}"`;
      let histogram = this.histograms.get(hkey);
      if (!histogram) {
        histogram = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
        this.histograms.set(hkey, histogram);
      }
      entry = { histogram, statusKeys: new Map() };
      byMethod.set(method, entry);
    }
    let key = entry.statusKeys.get(status);
    if (key === undefined) {
      key = `method="${method}",route="${escape(route)}",status="${status}"`;
      entry.statusKeys.set(status, key);
    }
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const h = entry.histogram;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  render(gauges: { nodesOnline: number; nodesOffline: number; gpusFree: number; gpusLeased: number; leases: Record<string, number> }): string {
    const out: string[] = [];
    out.push('# HELP iocli_http_requests_total HTTP requests by route and status.', '# TYPE iocli_http_requests_total counter');
    for (const [labels, n] of this.requests) out.push(`iocli_http_requests_total{${labels}} ${n}`);
    out.push('# HELP iocli_http_request_duration_seconds HTTP request latency.', '# TYPE iocli_http_request_duration_seconds histogram');
    for (const [labels, h] of this.histograms) {
      BUCKETS.forEach((le, i) => out.push(`iocli_http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.buckets[i]}`));
      out.push(`iocli_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      out.push(`iocli_http_request_duration_seconds_sum{${labels}} ${h.sum}`);
      out.push(`iocli_http_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    out.push('# HELP iocli_nodes Registered nodes by status.', '# TYPE iocli_nodes gauge');
    out.push(`iocli_nodes{status="online"} ${gauges.nodesOnline}`, `iocli_nodes{status="offline"} ${gauges.nodesOffline}`);
    out.push('# HELP iocli_gpus GPUs on online nodes: free, and leased anywhere.', '# TYPE iocli_gpus gauge');
    out.push(`iocli_gpus{state="free"} ${gauges.gpusFree}`, `iocli_gpus{state="leased"} ${gauges.gpusLeased}`);
    out.push('# HELP iocli_leases Leases by state.', '# TYPE iocli_leases gauge');
    for (const state of LEASE_STATES) out.push(`iocli_leases{state="${state}"} ${gauges.leases[state] ?? 0}`);
    return `${out.join('\n')}\n`;
  }
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
