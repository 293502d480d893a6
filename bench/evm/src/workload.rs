//! The workload, built and signed before any timing: a genesis of funded
//! senders, the token's deployment, its distribution to the senders (real
//! `transfer` transactions), and the timed blocks — OPEN transfer blocks and
//! ERC-20 transfer blocks, alternating.

use crate::{
    signing::{self, Key, Unsigned},
    token::{self, Artifact},
};
use alloy_primitives::{Address, Bytes, TxKind, U256, address};
use ol_ledger::{
    Genesis,
    genesis::{Allocation, DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT},
};
use ol_primitives::{Amount, TOTAL_SUPPLY_OPEN};

/// Holds the OPEN supply not given to senders.
const RESERVE: Address = address!("0x00000000000000000000000000000000000b0b0b");
/// OPEN per funded sender (and for the token's holder).
pub(crate) const SENDER_OPEN: u64 = 1_000;
/// Whole tokens (18 decimals) the distribution gives each sender.
const SENDER_TOKENS: u64 = 1_000_000;
/// Gas limit of an ERC-20 `transfer` (one to a fresh recipient uses ~52k).
const ERC20_GAS_LIMIT: u64 = 80_000;
/// Gas limit of the token's deployment.
const DEPLOY_GAS_LIMIT: u64 = 3_000_000;
/// Gas of a plain transfer.
const TRANSFER_GAS: u64 = 21_000;

/// Shape of a run.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Config {
    /// Funded senders, all of which hold tokens after the distribution.
    pub(crate) senders: u64,
    /// Transfers per block, from distinct senders to fresh recipients.
    pub(crate) block_transfers: u64,
    /// Timed blocks of each kind.
    pub(crate) blocks_per_kind: u64,
    /// False to time ERC-20 blocks only (for profiling that path).
    pub(crate) with_open: bool,
}

/// What a block's transactions move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Plain OPEN transfers (no code runs).
    Open,
    /// ERC-20 `transfer(to, amount)` calls, run by revm.
    Erc20,
    /// The token's deployment.
    Deploy,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Open => "OPEN",
            Kind::Erc20 => "ERC-20",
            Kind::Deploy => "deploy",
        }
    }
}

/// What one transaction must have done: `amount` of OPEN (kind `Open`) or
/// of the token (kind `Erc20`) from `from` to `to`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Intent {
    pub(crate) from: Address,
    pub(crate) to: Address,
    pub(crate) amount: U256,
}

/// One block's signed transactions and what each must do.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    pub(crate) kind: Kind,
    /// Raw EIP-2718 transactions.
    pub(crate) raw: Vec<Vec<u8>>,
    pub(crate) intents: Vec<Intent>,
}

/// Everything a run applies, in order.
pub(crate) struct Workload {
    pub(crate) genesis: Genesis,
    pub(crate) artifact: Artifact,
    /// Deploys the token and holds its supply until the distribution.
    pub(crate) holder: Address,
    /// Where the deployment puts the token.
    pub(crate) token: Address,
    pub(crate) supply: U256,
    /// Untimed: the deployment, then the distribution to every sender.
    pub(crate) setup: Vec<Block>,
    /// Timed: OPEN and ERC-20 blocks, alternating (OPEN first), or ERC-20
    /// blocks only.
    pub(crate) timed: Vec<Block>,
}

/// Derives the keys and signs every transaction of the run.
pub(crate) fn prepare(config: Config) -> eyre::Result<Workload> {
    eyre::ensure!(
        config.block_transfers <= config.senders,
        "a block's senders must be distinct: {} transfers per block need as many senders, got {}",
        config.block_transfers,
        config.senders
    );
    let artifact = Artifact::load()?;
    let holder_key = Key::derived("holder", 0);
    let holder = holder_key.address;
    let senders = Key::derive_many("sender", config.senders);
    let genesis = genesis(holder, &senders)?;
    let token = holder.create(0);
    let per_sender = U256::from(SENDER_TOKENS) * U256::from(10u64).pow(U256::from(18));
    let supply = per_sender * U256::from(config.senders + 1);

    let mut setup = vec![Block {
        kind: Kind::Deploy,
        raw: vec![signing::sign(&Unsigned {
            from: &holder_key,
            nonce: 0,
            to: TxKind::Create,
            value: U256::ZERO,
            input: artifact.deployment(holder, supply),
            gas_limit: DEPLOY_GAS_LIMIT,
        })],
        intents: vec![Intent { from: holder, to: token, amount: supply }],
    }];
    let distribution: Vec<(Unsigned<'_>, Intent)> = senders
        .iter()
        .enumerate()
        .map(|(i, sender)| {
            let intent = Intent { from: holder, to: sender.address, amount: per_sender };
            (erc20_transfer(&holder_key, 1 + i as u64, token, intent), intent)
        })
        .collect();
    for chunk in distribution.chunks(config.block_transfers as usize) {
        setup.push(sign_block(Kind::Erc20, chunk));
    }

    let mut timed = Vec::with_capacity(2 * config.blocks_per_kind as usize);
    let mut position = 0u64;
    for _ in 0..config.blocks_per_kind {
        for kind in [Kind::Open, Kind::Erc20] {
            if kind == Kind::Open && !config.with_open {
                continue;
            }
            let txs: Vec<(Unsigned<'_>, Intent)> = (0..config.block_transfers)
                .map(|_| {
                    // Senders rotate; a sender's nonce is how many times
                    // the rotation reached it before, whatever the kind.
                    let from = &senders[(position % config.senders) as usize];
                    let nonce = position / config.senders;
                    let amount = U256::from(1_000_000_000u64 + position);
                    let tx = match kind {
                        Kind::Open => {
                            let to = signing::recipient("open", position);
                            let intent = Intent { from: from.address, to, amount };
                            (open_transfer(from, nonce, intent), intent)
                        }
                        Kind::Erc20 | Kind::Deploy => {
                            let to = signing::recipient("erc20", position);
                            let intent = Intent { from: from.address, to, amount };
                            (erc20_transfer(from, nonce, token, intent), intent)
                        }
                    };
                    position += 1;
                    tx
                })
                .collect();
            timed.push(sign_block(kind, &txs));
        }
    }
    Ok(Workload { genesis, artifact, holder, token, supply, setup, timed })
}

fn open_transfer(from: &Key, nonce: u64, intent: Intent) -> Unsigned<'_> {
    Unsigned {
        from,
        nonce,
        to: TxKind::Call(intent.to),
        value: intent.amount,
        input: Bytes::new(),
        gas_limit: TRANSFER_GAS,
    }
}

fn erc20_transfer(from: &Key, nonce: u64, token: Address, intent: Intent) -> Unsigned<'_> {
    Unsigned {
        from,
        nonce,
        to: TxKind::Call(token),
        value: U256::ZERO,
        input: token::transfer_call(intent.to, intent.amount),
        gas_limit: ERC20_GAS_LIMIT,
    }
}

fn sign_block(kind: Kind, txs: &[(Unsigned<'_>, Intent)]) -> Block {
    let unsigned: Vec<Unsigned<'_>> = txs.iter().map(|(tx, _)| tx.clone()).collect();
    Block {
        kind,
        raw: signing::sign_all(&unsigned),
        intents: txs.iter().map(|(_, intent)| *intent).collect(),
    }
}

/// Every sender and the holder funded with [`SENDER_OPEN`]; the rest of the
/// supply in [`RESERVE`].
fn genesis(holder: Address, senders: &[Key]) -> eyre::Result<Genesis> {
    let funded = std::iter::once(holder).chain(senders.iter().map(|k| k.address));
    let mut allocations: Vec<Allocation> = funded
        .enumerate()
        .map(|(i, address)| Allocation {
            name: format!("bench account {i}"),
            address,
            amount: Amount::from_open(SENDER_OPEN),
            vesting: None,
        })
        .collect();
    let funded_open = SENDER_OPEN * allocations.len() as u64;
    allocations.push(Allocation {
        name: "reserve".into(),
        address: RESERVE,
        amount: Amount::from_open(TOTAL_SUPPLY_OPEN - funded_open),
        vesting: None,
    });
    let genesis = Genesis {
        chain_id: signing::CHAIN_ID,
        timestamp: 1_767_225_600,
        gas_limit: DEFAULT_GAS_LIMIT,
        base_fee_per_gas: DEFAULT_BASE_FEE,
        allocations,
        governance: None,
        validator_params: None,
        validators: Vec::new(),
    };
    genesis.validate()?;
    Ok(genesis)
}
