// Prometheus text exposition: request counters and a latency histogram kept in memory, database query latency and
// errors, background-task errors, process and event-loop figures, build info, plus gauges read at scrape time.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Gauges } from './gauges.js';
import { LEASE_STATES } from '../domain/lease-states.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Histogram {
  buckets: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly queries: Histogram = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 };
  private queryErrors = 0;
  private readonly errors = new Map<string, number>();
  private readonly loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(private readonly build: { version: string; engine: string }) {
    this.loop.enable();
  }

  /** One database query (Kysely's log hook): its latency, and whether it failed. */
  observeQuery(seconds: number, failed: boolean): void {
    if (failed) this.queryErrors++;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.queries.buckets[i]!++;
    this.queries.sum += seconds;
    this.queries.count++;
  }

  /** A failure the server survived (background task or request); `where` loses ids so the label set stays small. */
  countError(where: string): void {
    const task = where.replace(/\s+\S*[_\d]\S*/g, '').trim() || 'unknown';
    this.errors.set(task, (this.errors.get(task) ?? 0) + 1);
  }

  close(): void {
    this.loop.disable();
  }

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

  render(gauges: Gauges): string {
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
    out.push('# HELP iocli_gpus_held GPUs that live quotes hold for their renters.', '# TYPE iocli_gpus_held gauge', `iocli_gpus_held ${gauges.gpusHeld ?? 0}`);
    out.push('# HELP iocli_payments Renter payments by state (pending: confirming; confirmed: landed, no lease yet).', '# TYPE iocli_payments gauge');
    for (const state of ['pending', 'confirmed', 'used', 'refunded']) out.push(`iocli_payments{state="${state}"} ${gauges.payments?.[state] ?? 0}`);
    out.push('# HELP iocli_payments_open_oldest_age_seconds Age of the oldest payment still pending or not yet a lease.', '# TYPE iocli_payments_open_oldest_age_seconds gauge');
    out.push(`iocli_payments_open_oldest_age_seconds ${round(gauges.oldestOpenPaymentSeconds ?? 0)}`);
    out.push('# HELP iocli_payouts The payout outbox (claims and refunds) by kind and state.', '# TYPE iocli_payouts gauge');
    for (const kind of ['claim', 'refund']) {
      for (const state of ['pending', 'sent', 'paid', 'failed']) out.push(`iocli_payouts{kind="${kind}",state="${state}"} ${gauges.payouts?.find((p) => p.kind === kind && p.state === state)?.count ?? 0}`);
    }
    out.push('# HELP iocli_payouts_open_oldest_age_seconds Age of the oldest unfinished payout per kind (outbox lag).', '# TYPE iocli_payouts_open_oldest_age_seconds gauge');
    for (const kind of ['claim', 'refund']) out.push(`iocli_payouts_open_oldest_age_seconds{kind="${kind}"} ${round(gauges.oldestOpenPayoutSeconds?.[kind] ?? 0)}`);
    out.push('# HELP iocli_heartbeat_max_age_seconds Seconds since the least recent heartbeat stored for an online node.', '# TYPE iocli_heartbeat_max_age_seconds gauge');
    out.push(`iocli_heartbeat_max_age_seconds ${round(gauges.maxHeartbeatAgeSeconds ?? 0)}`);
    out.push('# HELP iocli_errors_total Failures the coordinator survived, by where they happened (flush, sweep, payout retry, request, ...).', '# TYPE iocli_errors_total counter');
    for (const [task, n] of this.errors) out.push(`iocli_errors_total{where="${escape(task)}"} ${n}`);
    out.push('# HELP iocli_db_query_duration_seconds Database query latency.', '# TYPE iocli_db_query_duration_seconds histogram');
    BUCKETS.forEach((le, i) => out.push(`iocli_db_query_duration_seconds_bucket{le="${le}"} ${this.queries.buckets[i]}`));
    out.push(`iocli_db_query_duration_seconds_bucket{le="+Inf"} ${this.queries.count}`, `iocli_db_query_duration_seconds_sum ${this.queries.sum}`, `iocli_db_query_duration_seconds_count ${this.queries.count}`);
    out.push('# HELP iocli_db_errors_total Database queries that failed.', '# TYPE iocli_db_errors_total counter', `iocli_db_errors_total ${this.queryErrors}`);
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    out.push('# HELP process_cpu_seconds_total User and system CPU time spent.', '# TYPE process_cpu_seconds_total counter', `process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`);
    out.push('# HELP process_resident_memory_bytes Resident memory size.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${memory.rss}`);
    out.push('# HELP process_start_time_seconds Start time of the process since the unix epoch.', '# TYPE process_start_time_seconds gauge', `process_start_time_seconds ${Math.round((Date.now() - process.uptime() * 1000) / 1000)}`);
    out.push('# HELP nodejs_heap_used_bytes V8 heap in use.', '# TYPE nodejs_heap_used_bytes gauge', `nodejs_heap_used_bytes ${memory.heapUsed}`);
    out.push('# HELP nodejs_eventloop_delay_seconds Event-loop delay since start: mean, p99 and max.', '# TYPE nodejs_eventloop_delay_seconds gauge');
    const delay = (ns: number) => (Number.isFinite(ns) ? ns / 1e9 : 0);
    out.push(`nodejs_eventloop_delay_seconds{stat="mean"} ${delay(this.loop.mean)}`, `nodejs_eventloop_delay_seconds{stat="p99"} ${delay(this.loop.percentile(99))}`, `nodejs_eventloop_delay_seconds{stat="max"} ${delay(this.loop.max)}`);
    out.push('# HELP iocli_build_info The running build (value 1).', '# TYPE iocli_build_info gauge');
    out.push(`iocli_build_info{version="${escape(this.build.version)}",node="${process.version}",engine="${this.build.engine}"} 1`);
    return `${out.join('\n')}\n`;
  }
}

function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

function escape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}
