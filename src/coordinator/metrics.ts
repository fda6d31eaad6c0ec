// Prometheus text exposition: request counters and a latency histogram kept in memory, plus gauges read at scrape time.

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly histograms = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `method="${method}",route="${escape(route)}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = `method="${method}",route="${escape(route)}"`;
    let h = this.histograms.get(hkey);
    if (!h) {
      h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.histograms.set(hkey, h);
    }
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
    for (const state of ['paid', 'scheduled', 'running', 'completed', 'stopped', 'failed']) out.push(`iocli_leases{state="${state}"} ${gauges.leases[state] ?? 0}`);
    return `${out.join('\n')}\n`;
  }
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
