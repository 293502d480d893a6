//! The printed table and its JSON twin.

use crate::{
    apply::{ApplyResult, Phases, ms},
    recovery::RecoveryResult,
    rpc::{ChainRun, RpcConfig},
};
use serde_json::{Value, json};
use std::{fmt::Write, time::Duration};

/// Target of (b) / (a).
const APPLY_TARGET: f64 = 0.5;
/// Target of node / anvil in (c).
const RPC_TARGET: f64 = 3.0;

/// (c)'s rounds, alternating node and anvil.
pub(crate) struct RpcRuns {
    pub(crate) config: RpcConfig,
    pub(crate) node: Vec<ChainRun>,
    pub(crate) anvil: Vec<ChainRun>,
}

impl RpcRuns {
    /// The fastest round of each chain: on shared cores, the one least
    /// slowed by other work.
    fn best(&self) -> (&ChainRun, &ChainRun) {
        let fastest = |runs: &'_ [ChainRun]| -> usize {
            (0..runs.len())
                .max_by(|a, b| runs[*a].per_second().total_cmp(&runs[*b].per_second()))
                .unwrap_or(0)
        };
        (&self.node[fastest(&self.node)], &self.anvil[fastest(&self.anvil)])
    }
}

pub(crate) struct Report {
    pub(crate) quick: bool,
    pub(crate) threads: usize,
    pub(crate) recovery: RecoveryResult,
    pub(crate) applied: ApplyResult,
    pub(crate) rpc: Option<RpcRuns>,
    pub(crate) wall: Duration,
    /// `/proc/loadavg` when the run started.
    pub(crate) load_average: String,
}

impl Report {
    fn apply_ratio(&self) -> f64 {
        self.applied.per_second() / self.recovery.per_second()
    }

    fn rpc_ratio(&self) -> Option<f64> {
        self.rpc.as_ref().map(|runs| {
            let (node, anvil) = runs.best();
            node.per_second() / anvil.per_second()
        })
    }

    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let a = &self.recovery;
        let b = &self.applied;
        let c = b.config;
        let row = |out: &mut String, id: &str, what: &str, load: &str, time: &str, rate: &str| {
            let _ = writeln!(out, "{id:<4} {what:<46} {load:<40} {time:>9}  {rate}");
        };
        let _ = writeln!(
            out,
            "\nOpenLedger ledger benchmark: {} threads, {} run, {:.0} s wall, load average at start {}",
            self.threads,
            if self.quick { "quick" } else { "full" },
            self.wall.as_secs_f64(),
            self.load_average
        );
        if let Some(share) = a.cpu_share() {
            let _ = writeln!(
                out,
                "(during (a) this process got {:.0}% of {} cores; less than ~90% means other work shared them)",
                share * 100.0,
                self.threads
            );
        }
        let _ = writeln!(out);
        row(&mut out, "", "measurement", "workload", "time", "throughput");
        let _ = writeln!(out, "{}", "-".repeat(126));
        row(
            &mut out,
            "(a)",
            &format!("signature recovery alone (libsecp256k1, {} thr)", a.threads),
            &format!("{} transfers, {} rounds*", count(a.transactions as u64), a.rounds),
            &seconds(a.elapsed),
            &format!("{} recoveries/s", count(a.per_second() as u64)),
        );
        row(
            &mut out,
            "(b)",
            "block application: decode+recover (parallel)",
            &format!("{} blocks x {} transfers", c.blocks, count(c.block_transfers)),
            &seconds(b.phases().total()),
            &format!("{} transfers/s", count(b.per_second() as u64)),
        );
        row(
            &mut out,
            "",
            "  -> execute_block -> Store::commit_block",
            &format!(
                "state {} -> {} accounts",
                count(c.accounts + 1),
                count(b.state_accounts_after)
            ),
            "",
            "",
        );
        row(&mut out, "", "  b / a", "", "", &verdict(self.apply_ratio(), APPLY_TARGET, true));
        if let Some(runs) = &self.rpc {
            let (config, (node, anvil)) = (&runs.config, runs.best());
            let rounds = runs.node.len();
            row(
                &mut out,
                "(c)",
                "JSON-RPC eth_sendRawTransaction -> committed",
                &format!(
                    "{} transfers, {} senders, best of {rounds}",
                    count(node.transfers as u64),
                    config.senders
                ),
                "",
                "",
            );
            for (run, flags) in
                [(node, "--dev --block-time 1"), (anvil, "--block-time 1 --gas-limit 1e9")]
            {
                row(
                    &mut out,
                    "",
                    &format!("  {} ({flags})", run.name),
                    &format!("batches of {} x {} in flight", config.batch, config.concurrency),
                    &seconds(run.committed_after),
                    &format!("{} transfers/s", count(run.per_second() as u64)),
                );
            }
            let ratio = node.per_second() / anvil.per_second();
            row(&mut out, "", "  node / anvil", "", "", &verdict(ratio, RPC_TARGET, false));
        }

        let _ = writeln!(
            out,
            "\n* one round of (a) just before each block of (b), on that block's transactions, so both see the same load"
        );
        let p = b.phases();
        let total = ms(p.total());
        let share = |d: Duration| format!("{:.0} ms ({:.0}%)", ms(d), 100.0 * ms(d) / total);
        let _ =
            writeln!(out, "\n(b) time per phase, all {} blocks ({:.0} ms):", b.blocks.len(), total);
        let _ = writeln!(out, "    decode   {}", share(p.decode));
        let _ = writeln!(out, "    recover  {}", share(p.recover));
        let _ = writeln!(out, "    execute  {}", share(p.execute));
        let _ = writeln!(out, "    tx/receipt roots {}", share(p.roots));
        let _ = writeln!(
            out,
            "    commit   {}  (state root and redb write overlap inside)",
            share(p.commit)
        );
        let _ = writeln!(
            out,
            "    (state root alone, dry run of the same changes, not in the total: {:.0} ms, {:.0} ms/block)",
            ms(p.state_root_alone),
            ms(p.state_root_alone) / b.blocks.len().max(1) as f64
        );
        if let (Some(a_cpu), Some(b_cpu)) = (a.cpu_seconds, b.cpu_seconds) {
            let _ = writeln!(
                out,
                "    CPU time (independent of other load): (a) {:.1} us per recovery, (b) {:.1} us per transfer",
                a_cpu * 1e6 / a.transactions as f64,
                b_cpu * 1e6 / b.transfers() as f64
            );
        }
        if let Some(runs) = &self.rpc {
            let _ = writeln!(out, "\n(c) every round:");
            for run in runs.node.iter().zip(&runs.anvil).flat_map(|(n, a)| [n, a]) {
                let _ = write!(
                    out,
                    "    {}: all accepted by RPC after {}, committed after {}, {} blocks (largest {})",
                    run.name,
                    seconds(run.submitted_after),
                    seconds(run.committed_after),
                    run.blocks.len(),
                    count(run.largest_block())
                );
                let _ = write!(out, " = {} transfers/s", count(run.per_second() as u64));
                if let Some(cpu) = run.server_cpu {
                    let _ = write!(
                        out,
                        "; server CPU {cpu:.1} s ({:.0} us/transfer)",
                        cpu * 1e6 / run.transfers as f64
                    );
                }
                if let Some(cpu) = run.client_cpu {
                    let _ = write!(out, ", client CPU {cpu:.1} s");
                }
                let _ = writeln!(out);
                if let Some(seal) = run.seal_log {
                    let _ = writeln!(
                        out,
                        "      node log: sealing {} blocks of {} transfers took {} ms in all (slowest {} ms)",
                        seal.blocks,
                        count(seal.transactions),
                        count(seal.elapsed_ms),
                        seal.slowest_ms
                    );
                }
            }
        }
        out
    }

    pub(crate) fn json(&self) -> Value {
        let a = &self.recovery;
        let b = &self.applied;
        let phases = |p: &Phases| {
            json!({
                "decode_ms": ms(p.decode), "recover_ms": ms(p.recover), "execute_ms": ms(p.execute),
                "roots_ms": ms(p.roots), "commit_ms": ms(p.commit), "total_ms": ms(p.total()),
                "state_root_alone_ms": ms(p.state_root_alone),
            })
        };
        let chain = |run: &ChainRun| {
            json!({
                "name": run.name,
                "transfers": run.transfers,
                "submitted_after_s": run.submitted_after.as_secs_f64(),
                "committed_after_s": run.committed_after.as_secs_f64(),
                "transfers_per_second": run.per_second(),
                "server_cpu_s": run.server_cpu,
                "client_cpu_s": run.client_cpu,
                "blocks": run.blocks.iter().map(|(n, c, t)| json!({"number": n, "transfers": c, "seen_after_s": t.as_secs_f64()})).collect::<Vec<_>>(),
                "seal_log": run.seal_log.map(|s| json!({"blocks": s.blocks, "transactions": s.transactions, "elapsed_ms": s.elapsed_ms, "slowest_ms": s.slowest_ms})),
            })
        };
        json!({
            "quick": self.quick,
            "threads": self.threads,
            "wall_s": self.wall.as_secs_f64(),
            "load_average_at_start": self.load_average,
            "recovery": {
                "transactions": a.transactions, "rounds": a.rounds, "threads": a.threads, "cpu_share": a.cpu_share(),
                "elapsed_s": a.elapsed.as_secs_f64(), "cpu_s": a.cpu_seconds, "recoveries_per_second": a.per_second(),
            },
            "block_application": {
                "accounts": b.config.accounts, "blocks": b.config.blocks,
                "transfers_per_block": b.config.block_transfers,
                "state_accounts_after": b.state_accounts_after,
                "transfers": b.transfers(), "transfers_per_second": b.per_second(), "cpu_s": b.cpu_seconds,
                "ratio_to_recovery": self.apply_ratio(), "target_ratio": APPLY_TARGET,
                "phases": phases(&b.phases()),
                "per_block": b.blocks.iter().map(|r| json!({"number": r.number, "transfers": r.transfers, "touched_accounts": r.touched_accounts, "phases": phases(&r.phases)})).collect::<Vec<_>>(),
            },
            "rpc": self.rpc.as_ref().map(|runs| json!({
                "transfers": runs.config.transfers, "senders": runs.config.senders,
                "batch": runs.config.batch, "concurrency": runs.config.concurrency,
                "node_best_per_second": runs.best().0.per_second(),
                "anvil_best_per_second": runs.best().1.per_second(),
                "node_rounds": runs.node.iter().map(chain).collect::<Vec<_>>(),
                "anvil_rounds": runs.anvil.iter().map(chain).collect::<Vec<_>>(),
                "ratio_node_to_anvil": self.rpc_ratio(), "target_ratio": RPC_TARGET,
            })),
        })
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// 12345678 → "12,345,678".
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ratio: f64, target: f64, percent: bool) -> String {
    let met = if ratio >= target { "met" } else { "NOT met" };
    if percent {
        format!("{:.0}%  (target >= {:.0}%: {met})", ratio * 100.0, target * 100.0)
    } else {
        format!("{ratio:.2}x  (target >= {target:.0}x: {met})")
    }
}
