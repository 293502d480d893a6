//! The printed table and its JSON twin.

use crate::{
    Plan,
    apply::{Phases, ms},
    request::{OUTPUT_TOKENS, RequestTimes},
    serving::{AdapterCost, ServingResult, quantile},
    throughput::{ATTRIBUTED, ThroughputResult},
};
use serde_json::{Value, json};
use std::{fmt::Write, time::Duration};

/// (1): attribution + settlement below this share of generation time.
const REQUEST_TARGET: f64 = 0.10;
/// (2): settlements/s at least this share of transfers/s.
const THROUGHPUT_TARGET: f64 = 1.0 / 3.0;

pub(crate) struct Report {
    pub(crate) quick: bool,
    pub(crate) threads: usize,
    pub(crate) plan: Plan,
    pub(crate) load_average: String,
    pub(crate) setup_seconds: f64,
    pub(crate) wall: Duration,
    pub(crate) base_parameters: usize,
    pub(crate) base_bytes: usize,
    pub(crate) requests: Vec<RequestTimes>,
    pub(crate) throughput: ThroughputResult,
    pub(crate) adapter_cost: AdapterCost,
    pub(crate) served: Vec<ServingResult>,
}

fn mean(requests: &[RequestTimes], part: impl Fn(&RequestTimes) -> Duration) -> Duration {
    requests.iter().map(part).sum::<Duration>() / requests.len().max(1) as u32
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "NOT MET" }
}

impl Report {
    fn request_ratio(&self) -> f64 {
        let overhead = mean(&self.requests, |r| r.attribute + r.settle());
        overhead.as_secs_f64() / mean(&self.requests, |r| r.generate).as_secs_f64()
    }

    fn throughput_ratio(&self) -> f64 {
        self.throughput.settle_per_second() / self.throughput.transfer_per_second()
    }

    /// Which part of (1)'s overhead dominates.
    fn request_profile(&self) -> String {
        let r = &self.requests;
        let parts = [
            ("attribution", mean(r, |t| t.attribute)),
            ("build+authorise", mean(r, |t| t.authorise)),
            ("simulate", mean(r, |t| t.simulate)),
            ("sign tx", mean(r, |t| t.sign_transaction)),
            ("share of block", mean(r, |t| t.apply)),
        ];
        let total: f64 = parts.iter().map(|(_, d)| d.as_secs_f64()).sum();
        parts
            .iter()
            .map(|(name, d)| {
                format!("{name} {:.2} ms ({:.0}%)", ms(*d), d.as_secs_f64() / total * 1e2)
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn phases_line(phases: &Phases) -> String {
        let total = phases.total().as_secs_f64();
        let pct = |d: Duration| d.as_secs_f64() / total * 1e2;
        format!(
            "decode {:.0}%, recover {:.0}%, execute {:.0}%, roots {:.0}%, commit {:.0}%",
            pct(phases.decode),
            pct(phases.recover),
            pct(phases.execute),
            pct(phases.roots),
            pct(phases.commit)
        )
    }

    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let row = |out: &mut String, id: &str, what: &str, value: String, target: &str| {
            let _ = writeln!(out, "{id:<4} {what:<58} {value:>22}  {target}");
        };
        let _ = writeln!(
            out,
            "\nOpenLedger inference benchmark: {} threads, {} run, CPU (no GPU lent to this task), {:.0} s wall ({:.0} s setup), load average at start {}",
            self.threads,
            if self.quick { "quick" } else { "full" },
            self.wall.as_secs_f64(),
            self.setup_seconds,
            self.load_average
        );
        let _ = writeln!(
            out,
            "model: tiny config, {} parameters ({} KiB of weights); datanet of {} contributions by {} contributors",
            self.base_parameters,
            self.base_bytes / 1024,
            self.plan.documents,
            self.plan.contributors
        );
        let _ = writeln!(out, "{:<4} {:<58} {:>22}  target", "", "", "value");

        let r = &self.requests;
        let generate = mean(r, |t| t.generate);
        let tokens = r.iter().map(|t| t.output_tokens).sum::<usize>() / r.len().max(1);
        row(
            &mut out,
            "(1)",
            &format!("generation, {OUTPUT_TOKENS} tokens asked (mean {tokens} produced)"),
            format!("{:.2} ms", ms(generate)),
            "",
        );
        row(
            &mut out,
            "",
            &format!(
                "attribution (mean {} contributions)",
                r.iter().map(|t| t.attributed).sum::<usize>() / r.len().max(1)
            ),
            format!("{:.3} ms", ms(mean(r, |t| t.attribute))),
            "",
        );
        row(
            &mut out,
            "",
            "settlement: build+authorise, simulate, sign, share of its block",
            format!("{:.3} ms", ms(mean(r, |t| t.settle()))),
            "",
        );
        let ratio = self.request_ratio();
        row(
            &mut out,
            "",
            "(attribution + settlement) / generation",
            format!("{:.1}%", ratio * 1e2),
            &format!("< {:.0}%: {}", REQUEST_TARGET * 1e2, verdict(ratio < REQUEST_TARGET)),
        );
        let _ = writeln!(out, "       overhead per request: {}", self.request_profile());

        let t = &self.throughput;
        row(
            &mut out,
            "(2)",
            &format!(
                "settlements/s ({ATTRIBUTED} contributions each, {} per block)",
                t.settlements / t.settle_blocks.max(1)
            ),
            format!("{:.0}/s", t.settle_per_second()),
            "",
        );
        row(
            &mut out,
            "",
            "  gas per settlement",
            format!("{}", t.settle_gas / t.settlements.max(1) as u64),
            "",
        );
        row(
            &mut out,
            "",
            &format!(
                "OPEN transfers/s (bench/ledger (b), {} per block)",
                t.transfers / t.transfer_blocks.max(1)
            ),
            format!("{:.0}/s", t.transfer_per_second()),
            "",
        );
        let ratio = self.throughput_ratio();
        row(
            &mut out,
            "",
            "settlements/s / transfers/s",
            format!("{ratio:.2}"),
            &format!("≥ 0.33: {}", verdict(ratio >= THROUGHPUT_TARGET)),
        );
        let _ = writeln!(out, "       settlement blocks: {}", Self::phases_line(&t.settle_phases));
        let _ =
            writeln!(out, "       transfer blocks:   {}", Self::phases_line(&t.transfer_phases));
        let _ = writeln!(
            out,
            "       per transaction: settlement {:.1} µs (execute {:.1} µs, commit {:.1} µs), transfer {:.1} µs",
            t.settle_phases.total().as_secs_f64() * 1e6 / t.settlements.max(1) as f64,
            t.settle_phases.execute.as_secs_f64() * 1e6 / t.settlements.max(1) as f64,
            t.settle_phases.commit.as_secs_f64() * 1e6 / t.settlements.max(1) as f64,
            t.transfer_phases.total().as_secs_f64() * 1e6 / t.transfers.max(1) as f64,
        );

        let a = &self.adapter_cost;
        row(
            &mut out,
            "(3)",
            &format!("memory per adapter (file {} B)", a.file_bytes),
            format!("{} B", a.memory_bytes),
            "reported",
        );
        row(
            &mut out,
            "",
            "adapter switch (load: parse, check, hash) p50 / p99",
            format!("{:.3} / {:.3} ms", ms(quantile(&a.loads, 0.5)), ms(quantile(&a.loads, 0.99))),
            "reported",
        );
        for s in &self.served {
            let name = s.rotation.name();
            row(
                &mut out,
                "",
                &format!(
                    "{name}: {} adapters, cache of {}, {} threads, {} requests",
                    a.adapters, s.resident_capacity, s.threads, s.requests
                ),
                format!("{:.1} req/s", s.per_second()),
                "reported",
            );
            row(
                &mut out,
                "",
                "  latency p50 / p99",
                format!("{:.1} / {:.1} ms", ms(s.quantile(0.5)), ms(s.quantile(0.99))),
                "reported",
            );
            row(
                &mut out,
                "",
                "  cache hits / misses / evictions",
                format!("{} / {} / {}", s.stats.hits, s.stats.misses, s.stats.evictions),
                "reported",
            );
            let n = s.requests.max(1) as f64;
            let _ = writeln!(
                out,
                "       per request: adapter {:.3} ms, generate {:.1} ms, attribute {:.3} ms; mean load on a miss {:.3} ms",
                s.adapter.as_secs_f64() * 1e3 / n,
                s.generate.as_secs_f64() * 1e3 / n,
                s.attribute.as_secs_f64() * 1e3 / n,
                s.stats.total_load.as_secs_f64() * 1e3 / s.stats.misses.max(1) as f64
            );
        }
        out
    }

    pub(crate) fn json(&self) -> Value {
        let r = &self.requests;
        let t = &self.throughput;
        let phases = |p: &Phases| {
            json!({
                "decode_ms": ms(p.decode), "recover_ms": ms(p.recover), "execute_ms": ms(p.execute),
                "roots_ms": ms(p.roots), "commit_ms": ms(p.commit), "total_ms": ms(p.total()),
            })
        };
        json!({
            "quick": self.quick,
            "threads": self.threads,
            "device": "cpu",
            "gpu": "none lent to this task",
            "load_average": self.load_average,
            "wall_seconds": self.wall.as_secs_f64(),
            "setup_seconds": self.setup_seconds,
            "model": { "config": "tiny", "parameters": self.base_parameters, "weights_bytes": self.base_bytes },
            "per_request": {
                "requests": r.len(),
                "output_tokens_asked": OUTPUT_TOKENS,
                "output_tokens_mean": r.iter().map(|t| t.output_tokens).sum::<usize>() as f64 / r.len().max(1) as f64,
                "generate_ms": ms(mean(r, |t| t.generate)),
                "attribute_ms": ms(mean(r, |t| t.attribute)),
                "authorise_ms": ms(mean(r, |t| t.authorise)),
                "simulate_ms": ms(mean(r, |t| t.simulate)),
                "sign_transaction_ms": ms(mean(r, |t| t.sign_transaction)),
                "apply_block_ms": ms(mean(r, |t| t.apply)),
                "ratio": self.request_ratio(),
                "target": format!("< {REQUEST_TARGET}"),
                "met": self.request_ratio() < REQUEST_TARGET,
            },
            "settlement_throughput": {
                "attributed_per_settlement": ATTRIBUTED,
                "settlements": t.settlements,
                "settle_blocks": t.settle_blocks,
                "gas_per_settlement": t.settle_gas / t.settlements.max(1) as u64,
                "settle_phases": phases(&t.settle_phases),
                "settlements_per_second": t.settle_per_second(),
                "transfers": t.transfers,
                "transfer_blocks": t.transfer_blocks,
                "transfer_phases": phases(&t.transfer_phases),
                "transfers_per_second": t.transfer_per_second(),
                "ratio": self.throughput_ratio(),
                "target": ">= 1/3",
                "met": self.throughput_ratio() >= THROUGHPUT_TARGET,
            },
            "serving": {
                "adapters": self.adapter_cost.adapters,
                "adapter_file_bytes": self.adapter_cost.file_bytes,
                "adapter_memory_bytes": self.adapter_cost.memory_bytes,
                "switch_p50_ms": ms(quantile(&self.adapter_cost.loads, 0.5)),
                "switch_p99_ms": ms(quantile(&self.adapter_cost.loads, 0.99)),
                "runs": self.served.iter().map(|s| json!({
                    "rotation": s.rotation.name(),
                    "threads": s.threads,
                    "resident_capacity": s.resident_capacity,
                    "requests": s.requests,
                    "requests_per_second": s.per_second(),
                    "p50_ms": ms(s.quantile(0.5)),
                    "p99_ms": ms(s.quantile(0.99)),
                    "hits": s.stats.hits,
                    "misses": s.stats.misses,
                    "evictions": s.stats.evictions,
                    "mean_load_ms": s.stats.total_load.as_secs_f64() * 1e3 / s.stats.misses.max(1) as f64,
                })).collect::<Vec<_>>(),
            },
        })
    }
}
