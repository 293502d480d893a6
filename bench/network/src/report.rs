//! The printed table and its JSON twin.

use crate::{
    cluster::{Mode, Tuning},
    load::RunResult,
};
use serde_json::{Value, json};
use std::{fmt::Write, time::Duration};

/// One chain's run.
pub(crate) struct ModeRun {
    pub(crate) name: String,
    pub(crate) mode: Mode,
    pub(crate) chain_id: u64,
    pub(crate) tuning: Option<Tuning>,
    pub(crate) max_fee_per_gas: u128,
    pub(crate) max_priority_fee_per_gas: u128,
    pub(crate) result: RunResult,
}

pub(crate) struct Report {
    pub(crate) quick: bool,
    pub(crate) seconds: f64,
    pub(crate) block_time_ms: u64,
    pub(crate) runs: Vec<ModeRun>,
    pub(crate) wall: Duration,
    /// `/proc/loadavg` when the run started.
    pub(crate) load_average: String,
    pub(crate) cores: usize,
}

impl Report {
    fn dev(&self) -> Option<&RunResult> {
        self.runs.iter().find(|r| matches!(r.mode, Mode::Dev { .. })).map(|r| &r.result)
    }

    fn network(&self) -> Option<&RunResult> {
        self.runs.iter().find(|r| matches!(r.mode, Mode::Network { .. })).map(|r| &r.result)
    }

    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "\nOpenLedger network benchmark: {} run, {:.0} s of load per chain, {} cores, {:.0} s wall, load average at start {}",
            if self.quick { "quick" } else { "full" },
            self.seconds,
            self.cores,
            self.wall.as_secs_f64(),
            self.load_average
        );
        let _ = writeln!(
            out,
            "block time {} ms on both: dev `--block-time {}`, network [consensus] block_time_ms = {}",
            self.block_time_ms,
            self.block_time_ms / 1000,
            self.block_time_ms
        );
        for run in &self.runs {
            if let Some(tuning) = &run.tuning {
                let entries: Vec<String> =
                    tuning.entries.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                let _ = writeln!(
                    out,
                    "{} [consensus] as run: {} (fields not listed: ol-network defaults)",
                    run.name,
                    entries.join(", ")
                );
            }
        }
        let _ = writeln!(out);
        let header = format!(
            "{:<22} {:>6} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9}",
            "mode",
            "nodes",
            "transfers",
            "offered/s",
            "committed/s",
            "p50 ms",
            "p99 ms",
            "max ms",
            "blocks",
            "txs/block",
            "chain CPU"
        );
        let _ = writeln!(out, "{header}");
        let _ = writeln!(out, "{}", "-".repeat(header.len()));
        for run in &self.runs {
            let r = &run.result;
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>9} {:>9.0} {:>10.0} {:>8} {:>8} {:>8} {:>7} {:>10.1} {:>9}",
                run.name,
                r.nodes,
                r.transfers,
                r.offered_rate,
                r.committed_per_second(),
                r.latency(0.5).as_millis(),
                r.latency(0.99).as_millis(),
                r.latency(1.0).as_millis(),
                r.blocks(),
                r.per_block(),
                r.server_cpu.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "-".into())
            );
        }
        if let (Some(dev), Some(net)) = (self.dev(), self.network()) {
            let ratio = |a: f64, b: f64| format!("{:.2}x", a / b);
            let _ = writeln!(
                out,
                "{:<22} {:>6} {:>9} {:>9} {:>10} {:>8} {:>8} {:>8} {:>7} {:>10} {:>9}",
                "network / dev",
                "",
                "",
                "",
                ratio(net.committed_per_second(), dev.committed_per_second()),
                ratio(net.latency(0.5).as_secs_f64(), dev.latency(0.5).as_secs_f64()),
                ratio(net.latency(0.99).as_secs_f64(), dev.latency(0.99).as_secs_f64()),
                "",
                "",
                ratio(net.per_block(), dev.per_block()),
                ""
            );
        }
        let _ = writeln!(out, "\nchecked:");
        for run in &self.runs {
            let r = &run.result;
            let _ = writeln!(
                out,
                "  {}: all {} transfers committed on every node ({:?}); {} blocks compared on all {} node(s), identical; final block {} hash {} stateRoot {}",
                run.name,
                r.transfers,
                r.seen_per_node,
                r.blocks_compared,
                r.nodes,
                r.last_block,
                r.final_block.hash,
                r.final_block.state_root
            );
        }
        let _ = writeln!(
            out,
            "\ncommitted/s = transfers / (last first-seen-in-block - first send); latency = first seen in a block (any node, polled every 50 ms) - its send;\nblocks = first to last block holding a benchmark transfer (empty ones between included); chain CPU = user+sys seconds of the chain's processes during the load"
        );
        out
    }

    pub(crate) fn json(&self) -> Value {
        let runs: Vec<Value> = self
            .runs
            .iter()
            .map(|run| {
                let r = &run.result;
                json!({
                    "mode": run.name,
                    "nodes": r.nodes,
                    "chain_id": run.chain_id,
                    "consensus": run.tuning.as_ref().map(|t| t.entries.iter().cloned().collect::<std::collections::BTreeMap<_, _>>()),
                    "max_fee_per_gas": run.max_fee_per_gas.to_string(),
                    "max_priority_fee_per_gas": run.max_priority_fee_per_gas.to_string(),
                    "transfers": r.transfers,
                    "target_rate": r.target_rate,
                    "offered_per_second": r.offered_rate,
                    "committed_per_second": r.committed_per_second(),
                    "committed_after_s": r.committed_after.as_secs_f64(),
                    "latency_ms": {
                        "p50": ms(r.latency(0.5)),
                        "p90": ms(r.latency(0.9)),
                        "p99": ms(r.latency(0.99)),
                        "max": ms(r.latency(1.0)),
                    },
                    "first_block": r.first_block,
                    "last_block": r.last_block,
                    "blocks": r.blocks(),
                    "nonempty_blocks": r.nonempty_blocks,
                    "transfers_per_block": r.per_block(),
                    "blocks_compared": r.blocks_compared,
                    "final_block_hash": r.final_block.hash.to_string(),
                    "final_state_root": r.final_block.state_root.to_string(),
                    "server_cpu_s": r.server_cpu,
                })
            })
            .collect();
        let ratio = match (self.dev(), self.network()) {
            (Some(dev), Some(net)) => json!({
                "committed_per_second": net.committed_per_second() / dev.committed_per_second(),
                "latency_p50": net.latency(0.5).as_secs_f64() / dev.latency(0.5).as_secs_f64(),
                "latency_p99": net.latency(0.99).as_secs_f64() / dev.latency(0.99).as_secs_f64(),
            }),
            _ => Value::Null,
        };
        json!({
            "quick": self.quick,
            "seconds_of_load": self.seconds,
            "block_time_ms": self.block_time_ms,
            "cores": self.cores,
            "load_average": self.load_average,
            "wall_s": self.wall.as_secs_f64(),
            "runs": runs,
            "network_over_dev": ratio,
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
