//! The printed table and its JSON twin.

use crate::{
    apply::{BlockRun, Phases, ms},
    workload::{Config, Kind},
};
use serde_json::{Value, json};
use std::{fmt::Write, time::Duration};

/// The timed blocks of one kind, summed.
#[derive(Debug, Clone, Default)]
pub(crate) struct KindTotals {
    pub(crate) blocks: usize,
    pub(crate) transfers: usize,
    pub(crate) gas_used: u64,
    pub(crate) written_slots: usize,
    pub(crate) touched_accounts: usize,
    pub(crate) phases: Phases,
    pub(crate) cpu_seconds: Option<f64>,
}

impl KindTotals {
    fn of(runs: &[BlockRun], kind: Kind) -> Self {
        let mut totals = Self { cpu_seconds: Some(0.0), ..Self::default() };
        for run in runs.iter().filter(|r| r.kind == kind) {
            totals.blocks += 1;
            totals.transfers += run.transfers;
            totals.gas_used += run.gas_used;
            totals.written_slots += run.written_slots;
            totals.touched_accounts += run.touched_accounts;
            totals.phases.add(&run.phases);
            totals.cpu_seconds = totals.cpu_seconds.zip(run.cpu_seconds).map(|(a, b)| a + b);
        }
        totals
    }

    /// End to end: decode + recover + execute + roots + commit.
    pub(crate) fn per_second(&self) -> f64 {
        self.transfers as f64 / self.phases.total().as_secs_f64()
    }

    /// `execute_block` alone.
    pub(crate) fn executed_per_second(&self) -> f64 {
        self.transfers as f64 / self.phases.execute.as_secs_f64()
    }

    /// CPU microseconds this process spent per transfer (all threads):
    /// unlike the wall time, other load on the machine does not inflate it.
    pub(crate) fn cpu_us_per_transfer(&self) -> Option<f64> {
        self.cpu_seconds.map(|cpu| cpu * 1e6 / self.transfers.max(1) as f64)
    }

    pub(crate) fn gas_per_transfer(&self) -> f64 {
        self.gas_used as f64 / self.transfers as f64
    }
}

pub(crate) struct Report {
    pub(crate) quick: bool,
    pub(crate) threads: usize,
    pub(crate) config: Config,
    pub(crate) compiler: String,
    pub(crate) runtime_code_bytes: usize,
    pub(crate) setup: Vec<BlockRun>,
    pub(crate) timed: Vec<BlockRun>,
    /// Accounts (OPEN) and token holders whose balances were checked.
    pub(crate) checked: (usize, usize),
    pub(crate) wall: Duration,
    /// `/proc/loadavg` when the run started.
    pub(crate) load_average: String,
}

impl Report {
    fn open(&self) -> KindTotals {
        KindTotals::of(&self.timed, Kind::Open)
    }

    fn erc20(&self) -> KindTotals {
        KindTotals::of(&self.timed, Kind::Erc20)
    }

    /// OPEN's CPU time per transfer over ERC-20's: (2) / (1) as the CPU
    /// sees it.
    fn cpu_ratio(&self) -> Option<f64> {
        let (open, erc20) = (self.open(), self.erc20());
        open.cpu_us_per_transfer().zip(erc20.cpu_us_per_transfer()).map(|(o, e)| o / e)
    }

    /// CPU time this process got during the timed blocks, as a share of
    /// `threads` cores: well below 1.0 means other work shared the cores.
    fn cpu_share(&self) -> Option<f64> {
        let (open, erc20) = (self.open(), self.erc20());
        let wall = (open.phases.total() + erc20.phases.total()).as_secs_f64();
        open.cpu_seconds.zip(erc20.cpu_seconds).map(|(o, e)| (o + e) / (wall * self.threads as f64))
    }

    pub(crate) fn table(&self) -> String {
        let (open, erc20) = (self.open(), self.erc20());
        let c = self.config;
        let mut out = String::new();
        let row = |out: &mut String, id: &str, what: &str, time: &str, rate: &str, gas: &str| {
            let line = format!("{id:<5} {what:<52} {time:>9}  {rate:<22} {gas:>10}");
            let _ = writeln!(out, "{}", line.trim_end());
        };
        let _ = writeln!(
            out,
            "\nOpenLedger EVM benchmark: {} threads, {} run, {:.0} s wall, load average at start {}",
            self.threads,
            if self.quick { "quick" } else { "full" },
            self.wall.as_secs_f64(),
            self.load_average
        );
        let _ = writeln!(
            out,
            "BenchToken = OpenZeppelin ERC20 ({} bytes of runtime code, solc {}); {} blocks of each kind x {} transfers, alternating, from {} senders to fresh recipients",
            self.runtime_code_bytes,
            self.compiler,
            c.blocks_per_kind,
            count(c.block_transfers),
            count(c.senders)
        );
        if let Some(share) = self.cpu_share() {
            let _ = writeln!(
                out,
                "(during the timed blocks this process got {:.0}% of {} cores; less than ~90% means other work shared them)",
                share * 100.0,
                self.threads
            );
        }
        let _ = writeln!(out);
        row(&mut out, "", "measurement", "time", "throughput", "gas/tx");
        let _ = writeln!(out, "{}", "-".repeat(104));
        for (id, what, totals) in [
            ("(1)", "OPEN transfers, end to end*", &open),
            ("(2)", "ERC-20 transfer() through revm, end to end*", &erc20),
        ] {
            row(
                &mut out,
                id,
                what,
                &seconds(totals.phases.total()),
                &format!("{} transfers/s", count(totals.per_second() as u64)),
                &count(totals.gas_per_transfer().round() as u64),
            );
        }
        row(
            &mut out,
            "",
            "  ratio (2) / (1)",
            "",
            &ratio(erc20.per_second() / open.per_second()),
            "",
        );
        if let Some(cpu_ratio) = self.cpu_ratio() {
            row(&mut out, "", "  the same by CPU time per transfer", "", &ratio(cpu_ratio), "");
        }
        for (id, what, totals) in [
            ("(1x)", "OPEN transfers, execute_block alone", &open),
            ("(2x)", "ERC-20 transfer() through revm, execute_block alone", &erc20),
        ] {
            row(
                &mut out,
                id,
                what,
                &seconds(totals.phases.execute),
                &format!("{} transfers/s", count(totals.executed_per_second() as u64)),
                "",
            );
        }
        row(
            &mut out,
            "",
            "  ratio (2x) / (1x)",
            "",
            &ratio(erc20.executed_per_second() / open.executed_per_second()),
            "",
        );
        let _ = writeln!(
            out,
            "\n* raw bytes -> decode + recover (parallel) -> execute_block (ol_evm::Revm) -> tx/receipt roots -> Store::commit_block,\n  the same pipeline for both; (1x)/(2x) are the execute_block part of the same blocks"
        );

        let _ = writeln!(out, "\nper block, mean of each kind (ms; us per transfer in brackets):");
        let _ = writeln!(out, "    {:<26} {:>18} {:>18}", "phase", "OPEN", "ERC-20");
        let phase = |out: &mut String, name: &str, pick: fn(&Phases) -> Duration| {
            let cell = |t: &KindTotals| {
                let d = ms(pick(&t.phases));
                format!(
                    "{:.1} ({:.1})",
                    d / t.blocks.max(1) as f64,
                    d * 1e3 / t.transfers.max(1) as f64
                )
            };
            let _ = writeln!(out, "    {name:<26} {:>18} {:>18}", cell(&open), cell(&erc20));
        };
        phase(&mut out, "decode", |p| p.decode);
        phase(&mut out, "recover", |p| p.recover);
        phase(&mut out, "execute_block", |p| p.execute);
        phase(&mut out, "tx/receipt roots", |p| p.roots);
        phase(&mut out, "commit_block", |p| p.commit);
        phase(&mut out, "total", |p| p.total());
        phase(&mut out, "(state root alone, dry run)", |p| p.state_root_alone);
        let per_block = |t: &KindTotals, n: usize| n / t.blocks.max(1);
        let _ = writeln!(
            out,
            "    {:<26} {:>18} {:>18}",
            "accounts touched",
            count(per_block(&open, open.touched_accounts) as u64),
            count(per_block(&erc20, erc20.touched_accounts) as u64)
        );
        let _ = writeln!(
            out,
            "    {:<26} {:>18} {:>18}",
            "storage slots written",
            count(per_block(&open, open.written_slots) as u64),
            count(per_block(&erc20, erc20.written_slots) as u64)
        );
        if let (Some(open_cpu), Some(erc20_cpu)) =
            (open.cpu_us_per_transfer(), erc20.cpu_us_per_transfer())
        {
            let _ = writeln!(
                out,
                "    {:<26} {:>18} {:>18}",
                "CPU us per transfer",
                format!("{open_cpu:.1}"),
                format!("{erc20_cpu:.1}")
            );
        }
        let setup_transfers: usize = self.setup.iter().map(|r| r.transfers).sum();
        let _ = writeln!(
            out,
            "\nchecked: all {} timed receipts status 1 (ERC-20: one Transfer event each, as signed); OPEN balances of {} accounts and token balances of {} holders equal to the expected after every block; setup (untimed): deploy + {} distribution transfers in {} blocks",
            count((open.transfers + erc20.transfers) as u64),
            count(self.checked.0 as u64),
            count(self.checked.1 as u64),
            count(setup_transfers.saturating_sub(1) as u64),
            self.setup.len()
        );
        out
    }

    pub(crate) fn json(&self) -> Value {
        let phases = |p: &Phases| {
            json!({
                "decode_ms": ms(p.decode), "recover_ms": ms(p.recover), "execute_ms": ms(p.execute),
                "roots_ms": ms(p.roots), "commit_ms": ms(p.commit), "total_ms": ms(p.total()),
                "state_root_alone_ms": ms(p.state_root_alone),
            })
        };
        let totals = |t: &KindTotals| {
            json!({
                "blocks": t.blocks, "transfers": t.transfers, "gas_used": t.gas_used,
                "gas_per_transfer": t.gas_per_transfer(),
                "transfers_per_second": t.per_second(),
                "executed_per_second": t.executed_per_second(),
                "cpu_s": t.cpu_seconds, "cpu_us_per_transfer": t.cpu_us_per_transfer(),
                "phases": phases(&t.phases),
            })
        };
        let block = |r: &BlockRun| {
            json!({
                "number": r.number, "kind": r.kind.name(), "transfers": r.transfers,
                "gas_used": r.gas_used, "touched_accounts": r.touched_accounts,
                "written_slots": r.written_slots, "cpu_s": r.cpu_seconds, "phases": phases(&r.phases),
            })
        };
        let (open, erc20) = (self.open(), self.erc20());
        json!({
            "quick": self.quick,
            "threads": self.threads,
            "wall_s": self.wall.as_secs_f64(),
            "load_average_at_start": self.load_average,
            "token": { "compiler": self.compiler, "runtime_code_bytes": self.runtime_code_bytes },
            "config": {
                "senders": self.config.senders, "transfers_per_block": self.config.block_transfers,
                "blocks_per_kind": self.config.blocks_per_kind,
            },
            "open": totals(&open),
            "erc20": totals(&erc20),
            "ratio_erc20_to_open": erc20.per_second() / open.per_second(),
            "ratio_erc20_to_open_execute_only": erc20.executed_per_second() / open.executed_per_second(),
            "ratio_erc20_to_open_cpu": self.cpu_ratio(),
            "cpu_share": self.cpu_share(),
            "checked": { "open_accounts": self.checked.0, "token_holders": self.checked.1 },
            "setup_blocks": self.setup.iter().map(block).collect::<Vec<_>>(),
            "timed_blocks": self.timed.iter().map(block).collect::<Vec<_>>(),
        })
    }
}

fn seconds(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn ratio(r: f64) -> String {
    format!("{r:.3} ({:.1}%)", r * 100.0)
}

/// 12345678 → "12,345,678".
pub(crate) fn count(n: u64) -> String {
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
