//! Applying a block of transactions to a state.
//!
//! Transactions run in order against an [`Overlay`]; each one is checked
//! ([`crate::validation`]), then the sender pays `gas_used × price + value`,
//! the recipient receives `value`, the treasury the base fee and the
//! producer the tip. A plain transfer uses exactly its intrinsic gas; a call
//! to a system contract ([`crate::system`]) adds the gas the call used and
//! may revert (the sender still pays for the gas used, nothing else
//! changes). The result is the set of changed accounts, the receipts and the
//! gas used; nothing is written anywhere.

use crate::{
    content::ContentSource,
    contracts::{ContractCall, ContractError, ContractRuntime},
    fees::{self, ChainSpec},
    state::{Overlay, StateChanges, StateError, StateView},
    system::{self, CallEnv},
    validation::{self, InvalidTransaction},
    vesting,
};
use alloy_consensus::{
    Eip658Value, Receipt as ConsensusReceipt, ReceiptEnvelope, ReceiptWithBloom, Transaction,
    TxType,
};
use alloy_primitives::{Address, Bloom, Bytes, Log, TxKind, U256};
use ol_primitives::{
    BlockEnv, Receipt, RecoveredTransaction,
    addresses::{self, TREASURY},
};

/// What to do with a transaction that is not valid at its place in the block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionMode {
    /// Building a block: leave the transaction out and carry on.
    Build,
    /// Checking a block someone else built: the whole block is invalid.
    Verify,
}

/// A block's execution failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A transaction in a block being verified is invalid.
    #[error("transaction {index} ({hash}) is invalid: {reason}")]
    InvalidTransaction {
        /// Position in the block.
        index: usize,
        /// Its hash.
        hash: alloy_primitives::B256,
        /// Why.
        reason: Box<InvalidTransaction>,
    },
    /// The state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
}

/// The result of executing a block.
#[derive(Debug, Clone, Default)]
pub struct BlockOutcome {
    /// Transactions included, in order.
    pub included: Vec<RecoveredTransaction>,
    /// Their receipts, in the same order.
    pub receipts: Vec<Receipt>,
    /// Transactions left out (only in [`ExecutionMode::Build`]), with why.
    pub excluded: Vec<(RecoveredTransaction, InvalidTransaction)>,
    /// Every account and storage change.
    pub changes: StateChanges,
    /// Gas used by the whole block.
    pub gas_used: u64,
    /// Union of the receipts' blooms.
    pub logs_bloom: Bloom,
}

/// Executes `transactions` on top of `state` in the environment `env`.
pub fn execute_block<S: StateView>(
    spec: &ChainSpec,
    state: S,
    env: &BlockEnv,
    transactions: Vec<RecoveredTransaction>,
    mode: ExecutionMode,
    content: &dyn ContentSource,
    contracts: &dyn ContractRuntime,
) -> Result<BlockOutcome, BlockError> {
    let mut overlay = Overlay::new(state);
    let mut outcome = BlockOutcome::default();
    outcome.included.reserve(transactions.len());
    outcome.receipts.reserve(transactions.len());
    for (index, tx) in transactions.into_iter().enumerate() {
        match apply_transaction(spec, &mut overlay, env, &tx, outcome.gas_used, content, contracts)?
        {
            Ok(receipt) => {
                outcome.gas_used += receipt.gas_used;
                outcome.logs_bloom.accrue_bloom(&receipt.bloom());
                outcome.receipts.push(receipt);
                outcome.included.push(tx);
            }
            Err(reason) => match mode {
                ExecutionMode::Build => outcome.excluded.push((tx, reason)),
                ExecutionMode::Verify => {
                    return Err(BlockError::InvalidTransaction {
                        index,
                        hash: tx.hash,
                        reason: Box::new(reason),
                    });
                }
            },
        }
    }
    route_base_fees(spec, &mut overlay, env, content, outcome.gas_used)?;
    end_epoch(spec, &mut overlay, env, content)?;
    outcome.changes = overlay.into_changes();
    Ok(outcome)
}

/// Moves the governed stakers' share of the block's base fees from the
/// treasury to the stakers' pool (nothing with the default share of 0).
fn route_base_fees<S: StateView>(
    spec: &ChainSpec,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    content: &dyn ContentSource,
    gas_used: u64,
) -> Result<(), StateError> {
    let base_fees = U256::from(gas_used) * U256::from(env.base_fee);
    if base_fees.is_zero() {
        return Ok(());
    }
    // The treasury received at least these base fees in this block, so the
    // move cannot fail; if it ever did, the fees stay with it.
    block_end_call(spec, overlay, env, content, TREASURY, |frame| {
        crate::staking::route_base_fees(frame, base_fees)
    })
}

/// At an epoch boundary (a block number that is a multiple of the governed
/// `epoch_blocks`), or after a block that jailed a validator, recomputes the
/// validator set for the blocks after this one; otherwise reads a flag and
/// a parameter and changes nothing. Block-end work has no receipt, so its
/// logs are not kept: the set is read from state.
fn end_epoch<S: StateView>(
    spec: &ChainSpec,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    content: &dyn ContentSource,
) -> Result<(), StateError> {
    // The recompute only reads records and writes the set; it has no
    // refusal to reach. Were one ever reached, the old set would stay.
    block_end_call(spec, overlay, env, content, addresses::STAKING, |frame| {
        crate::staking::end_block(frame, env.number)
    })
}

/// Runs `work` as the staking contract at the end of a block, called by
/// `caller`, without a gas limit, and lays its writes over the block's.
/// A refusal writes nothing and is not an error (block-end work has no
/// transaction to revert); only a state failure is.
fn block_end_call<S: StateView>(
    spec: &ChainSpec,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    content: &dyn ContentSource,
    caller: Address,
    work: impl FnOnce(&mut system::Frame<'_, Overlay<S>>) -> Result<(), system::CallError>,
) -> Result<(), StateError> {
    let call_env = CallEnv { spec, block: env, caller, content };
    let mut frame = system::Frame::new(&*overlay, addresses::STAKING, call_env, u64::MAX);
    frame.gas = system::GasMeter::unlimited();
    match work(&mut frame) {
        Ok(()) => {
            let changes = frame.state.into_changes();
            overlay.extend(changes);
            Ok(())
        }
        Err(system::CallError::State(error)) => Err(error),
        Err(_) => Ok(()),
    }
}

/// Checks and applies one transaction. The outer `Result` is a database
/// failure; the inner one says whether the transaction was valid. An invalid
/// transaction leaves the overlay untouched.
pub fn apply_transaction<S: StateView>(
    spec: &ChainSpec,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    tx: &RecoveredTransaction,
    block_gas_used: u64,
    content: &dyn ContentSource,
    contracts: &dyn ContractRuntime,
) -> Result<Result<Receipt, InvalidTransaction>, StateError> {
    Ok(apply_transaction_with_output(spec, overlay, env, tx, block_gas_used, content, contracts)?
        .map(|(receipt, _)| receipt))
}

/// As [`apply_transaction`], also answering what the transaction returned
/// (a contract's or system contract's return or revert data; empty for a
/// plain transfer), which no receipt holds: what a tracer reports.
pub fn apply_transaction_with_output<S: StateView>(
    spec: &ChainSpec,
    overlay: &mut Overlay<S>,
    env: &BlockEnv,
    tx: &RecoveredTransaction,
    block_gas_used: u64,
    content: &dyn ContentSource,
    contracts: &dyn ContractRuntime,
) -> Result<Result<(Receipt, Bytes), InvalidTransaction>, StateError> {
    if let Err(reason) = validation::check_static(spec, env, tx) {
        return Ok(Err(reason));
    }
    let envelope = &tx.envelope;
    if fees::is_create(envelope) && !contracts.enabled() {
        return Ok(Err(InvalidTransaction::CreateNotSupported));
    }
    let gas_left = env.gas_limit - block_gas_used;
    if envelope.gas_limit() > gas_left {
        return Ok(Err(InvalidTransaction::BlockFull {
            gas_limit: envelope.gas_limit(),
            gas_left,
        }));
    }
    let mut sender = overlay.account_or_default(&tx.sender)?;
    let breakdown = vesting::balance_at(overlay, &tx.sender, env.timestamp)?;
    if let Err(reason) = validation::check_against_account(tx, &sender, breakdown.spendable) {
        return Ok(Err(reason));
    }

    let price = fees::effective_gas_price(envelope, env.base_fee);
    let value = envelope.value();
    let gas_limit = envelope.gas_limit();
    // Buy the whole gas limit first (the funds check covered it), so a
    // call sees the balance the sender really has left.
    sender.balance -= U256::from(gas_limit) * U256::from(price);
    let run = match envelope.kind() {
        TxKind::Create => Run::Contract,
        TxKind::Call(to) if addresses::is_callable(&to) => Run::System(to),
        TxKind::Call(to) if contracts.enabled() && has_code(overlay, &to)? => Run::Contract,
        TxKind::Call(to) => Run::Transfer(to),
    };
    let executed = match run {
        Run::Contract => {
            let mut before = Overlay::new(&*overlay);
            before.set_account(tx.sender, sender);
            let call = ContractCall {
                sender: tx.sender,
                kind: envelope.kind(),
                value,
                input: envelope.input(),
                gas_limit,
                gas_price: price,
                nonce: Some(envelope.nonce()),
                access_list: envelope.access_list(),
            };
            let outcome = match contracts.transact(spec, &before, env, &call, content) {
                Ok(outcome) => outcome,
                Err(ContractError::State(error)) => return Err(error),
                Err(ContractError::Refused(reason)) => {
                    return Ok(Err(InvalidTransaction::RefusedByEvm(reason)));
                }
            };
            // The runtime bumped the nonce and moved the value itself.
            overlay.set_account(tx.sender, sender);
            overlay.extend(outcome.changes);
            Executed {
                gas_used: outcome.gas_used.min(gas_limit),
                success: outcome.success,
                logs: outcome.logs,
                output: outcome.output,
            }
        }
        Run::System(to) => {
            sender.nonce += 1;
            sender.balance -= value;
            overlay.set_account(tx.sender, sender);
            credit(overlay, to, value)?;
            let intrinsic = fees::intrinsic_gas(envelope);
            let call_env = CallEnv { spec, block: env, caller: tx.sender, content };
            let outcome =
                system::call(&*overlay, call_env, to, envelope.input(), gas_limit - intrinsic)?;
            let logs = if outcome.success {
                overlay.extend(outcome.changes);
                outcome.logs
            } else {
                Vec::new()
            };
            Executed {
                gas_used: intrinsic + outcome.gas_used,
                success: outcome.success,
                logs,
                output: outcome.output,
            }
        }
        Run::Transfer(to) => {
            sender.nonce += 1;
            sender.balance -= value;
            overlay.set_account(tx.sender, sender);
            credit(overlay, to, value)?;
            Executed {
                gas_used: fees::intrinsic_gas(envelope),
                success: true,
                logs: Vec::new(),
                output: Bytes::new(),
            }
        }
    };
    let Executed { gas_used, success, logs, output } = executed;

    let unused = U256::from(gas_limit - gas_used) * U256::from(price);
    credit(overlay, tx.sender, unused)?;
    let base_fee_total = U256::from(gas_used) * U256::from(env.base_fee);
    let tip_total = U256::from(gas_used) * U256::from(price - u128::from(env.base_fee));
    credit(overlay, TREASURY, base_fee_total)?;
    credit(overlay, env.beneficiary, tip_total)?;

    let mut bloom = Bloom::ZERO;
    for log in &logs {
        bloom.accrue_log(log);
    }
    let receipt = ConsensusReceipt {
        status: Eip658Value::Eip658(success),
        cumulative_gas_used: block_gas_used + gas_used,
        logs,
    };
    let with_bloom = ReceiptWithBloom::new(receipt, bloom);
    let envelope_receipt = match envelope.tx_type() {
        TxType::Legacy => ReceiptEnvelope::Legacy(with_bloom),
        TxType::Eip2930 => ReceiptEnvelope::Eip2930(with_bloom),
        _ => ReceiptEnvelope::Eip1559(with_bloom),
    };
    let receipt = Receipt {
        envelope: envelope_receipt,
        transaction_hash: tx.hash,
        from: tx.sender,
        to: envelope.to(),
        gas_used,
        effective_gas_price: price,
    };
    Ok(Ok((receipt, output)))
}

/// Which rules run a transaction.
enum Run {
    /// revm: a creation, or a call to an account with code.
    Contract,
    /// Native rules at a system contract's address.
    System(Address),
    /// A plain transfer: intrinsic gas only.
    Transfer(Address),
}

/// What running a transaction gave, before the fees are settled.
struct Executed {
    gas_used: u64,
    success: bool,
    logs: Vec<Log>,
    /// Return or revert data.
    output: Bytes,
}

/// True when the account at `address` holds code, or is an Ethereum
/// precompile (which runs in the EVM although it has none).
fn has_code<S: StateView>(overlay: &Overlay<S>, address: &Address) -> Result<bool, StateError> {
    if addresses::is_ethereum_precompile(address) {
        return Ok(true);
    }
    Ok(overlay.account(address)?.is_some_and(|a| a.code_hash != crate::state::EMPTY_CODE_HASH))
}

/// Adds `amount` to an account's balance. Zero amounts touch nothing, so an
/// untouched account is never created empty (EIP-161 spirit).
fn credit<S: StateView>(
    overlay: &mut Overlay<S>,
    address: Address,
    amount: U256,
) -> Result<(), StateError> {
    if amount.is_zero() {
        return Ok(());
    }
    let mut account = overlay.account_or_default(&address)?;
    // Cannot overflow: the sum of all balances is the fixed supply.
    account.balance += amount;
    overlay.set_account(address, account);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        content::NoContent,
        contracts::NoContracts,
        genesis::{Allocation, Genesis, VestingTerms},
        state::MemoryState,
    };
    use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy};
    use alloy_primitives::{Bytes, TxKind};
    use alloy_signer::SignerSync;
    use alloy_signer_local::PrivateKeySigner;
    use ol_primitives::Amount;
    use proptest::prelude::*;

    const CHAIN: u64 = 1337;
    const BASE_FEE: u64 = 1_000_000_000;

    fn key(i: u8) -> PrivateKeySigner {
        PrivateKeySigner::from_bytes(&alloy_primitives::B256::repeat_byte(i + 1)).unwrap()
    }

    fn producer() -> Address {
        Address::repeat_byte(0xee)
    }

    /// Accounts 0..3 hold 1000 OPEN each, account 3's fully locked for 100 s;
    /// the rest of the supply sits with a reserve.
    fn genesis() -> (ChainSpec, MemoryState) {
        let mut allocations: Vec<Allocation> = (0..4)
            .map(|i| Allocation {
                name: format!("k{i}"),
                address: key(i).address(),
                amount: Amount::from_open(1000),
                vesting: (i == 3).then_some(VestingTerms { cliff_seconds: 100, linear_seconds: 0 }),
            })
            .collect();
        allocations.push(Allocation {
            name: "reserve".into(),
            address: Address::repeat_byte(0xaa),
            amount: Amount::from_open(1_000_000_000 - 4000),
            vesting: None,
        });
        let genesis = Genesis {
            chain_id: CHAIN,
            timestamp: 0,
            gas_limit: 30_000_000,
            base_fee_per_gas: BASE_FEE,
            allocations,
            governance: None,
            validator_params: None,
            validators: Vec::new(),
        };
        genesis.validate().unwrap();
        let mut state = MemoryState::default();
        state.apply(genesis.state());
        (genesis.chain_spec(), state)
    }

    fn env(timestamp: u64) -> BlockEnv {
        BlockEnv {
            number: 1,
            timestamp,
            beneficiary: producer(),
            base_fee: BASE_FEE,
            gas_limit: 30_000_000,
        }
    }

    fn transfer(from: u8, nonce: u64, to: Address, value: U256, tip: u128) -> RecoveredTransaction {
        let tx = TxEip1559 {
            chain_id: CHAIN,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: 3 * u128::from(BASE_FEE),
            max_priority_fee_per_gas: tip,
            to: TxKind::Call(to),
            value,
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let sig = key(from).sign_hash_sync(&tx.signature_hash()).unwrap();
        let envelope: TxEnvelope = tx.into_signed(sig).into();
        RecoveredTransaction::recover(envelope).unwrap()
    }

    fn balance(state: &MemoryState, outcome: &BlockOutcome, who: Address) -> U256 {
        let mut view = MemoryState { changes: state.changes.clone() };
        view.apply(outcome.changes.clone());
        view.account(&who).unwrap().unwrap_or_default().balance
    }

    #[test]
    fn transfer_pays_value_base_fee_and_tip() {
        let (spec, state) = genesis();
        let to = Address::repeat_byte(0x42);
        let tip = 2_000_000_000;
        let tx = transfer(0, 0, to, U256::from(5), tip);
        let out = execute_block(
            &spec,
            &state,
            &env(10),
            vec![tx],
            ExecutionMode::Verify,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert_eq!(out.gas_used, 21_000);
        let receipt = &out.receipts[0];
        assert!(receipt.success());
        assert_eq!(receipt.effective_gas_price, 3 * u128::from(BASE_FEE));
        let fee = U256::from(21_000u64) * U256::from(3 * BASE_FEE);
        assert_eq!(
            balance(&state, &out, key(0).address()),
            Amount::from_open(1000).wei() - fee - U256::from(5)
        );
        assert_eq!(balance(&state, &out, to), U256::from(5));
        assert_eq!(balance(&state, &out, TREASURY), U256::from(21_000u64 * BASE_FEE));
        assert_eq!(balance(&state, &out, producer()), U256::from(21_000u64 * 2 * BASE_FEE));
        assert_eq!(out.changes.accounts[&key(0).address()].nonce, 1);
    }

    #[test]
    fn locked_balance_cannot_be_spent_until_vested() {
        let (spec, state) = genesis();
        let tx = transfer(3, 0, Address::repeat_byte(1), U256::from(1), 0);
        let early = execute_block(
            &spec,
            &state,
            &env(99),
            vec![tx.clone()],
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert!(early.included.is_empty());
        assert!(
            matches!(early.excluded[0].1, InvalidTransaction::InsufficientFunds { spendable, .. } if spendable.is_zero())
        );
        assert!(early.changes.is_empty(), "a refused transaction changes nothing");
        let late = execute_block(
            &spec,
            &state,
            &env(100),
            vec![tx],
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert_eq!(late.included.len(), 1);
    }

    #[test]
    fn verify_mode_rejects_the_block_and_build_mode_skips() {
        let (spec, state) = genesis();
        let good = transfer(0, 0, Address::repeat_byte(1), U256::from(1), 0);
        let replay = good.clone();
        let gap = transfer(1, 5, Address::repeat_byte(1), U256::from(1), 0);
        let txs = vec![good, replay, gap];
        let built = execute_block(
            &spec,
            &state,
            &env(1),
            txs.clone(),
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert_eq!(built.included.len(), 1);
        assert!(matches!(
            built.excluded[0].1,
            InvalidTransaction::NonceTooLow { expected: 1, got: 0 }
        ));
        assert!(matches!(
            built.excluded[1].1,
            InvalidTransaction::NonceTooHigh { expected: 0, got: 5 }
        ));
        let err = execute_block(
            &spec,
            &state,
            &env(1),
            txs,
            ExecutionMode::Verify,
            &NoContent,
            &NoContracts,
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("transaction 1 "), "{err}");
    }

    #[test]
    fn static_rules() {
        let (spec, state) = genesis();
        let mut low_fee_env = env(1);
        low_fee_env.base_fee = 10 * BASE_FEE;
        let tx = transfer(0, 0, Address::repeat_byte(1), U256::from(1), 0);
        let out = execute_block(
            &spec,
            &state,
            &low_fee_env,
            vec![tx],
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert!(matches!(out.excluded[0].1, InvalidTransaction::FeeCapTooLow { .. }));

        let legacy = TxLegacy {
            chain_id: None,
            nonce: 0,
            gas_price: u128::from(BASE_FEE),
            gas_limit: 21_000,
            to: TxKind::Call(Address::repeat_byte(1)),
            value: U256::from(1),
            input: Bytes::new(),
        };
        let sig = key(0).sign_hash_sync(&legacy.signature_hash()).unwrap();
        let pre155 = RecoveredTransaction::recover(legacy.into_signed(sig).into()).unwrap();
        let out = execute_block(
            &spec,
            &state,
            &env(1),
            vec![pre155],
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert_eq!(out.excluded[0].1, InvalidTransaction::MissingChainId);

        let to_vesting = transfer(0, 0, ol_primitives::addresses::VESTING, U256::from(1), 0);
        let out = execute_block(
            &spec,
            &state,
            &env(1),
            vec![to_vesting],
            ExecutionMode::Build,
            &NoContent,
            &NoContracts,
        )
        .unwrap();
        assert!(matches!(out.excluded[0].1, InvalidTransaction::SystemRecipient(_)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]
        /// Nothing is created or lost: whatever transfers run, the balances of
        /// every touched account still sum to what they held before.
        #[test]
        fn supply_is_conserved(moves in proptest::collection::vec((0u8..4, 0u8..6, 0u128..2_000_000_000_000_000_000_000, 0u128..5_000_000_000), 1..24)) {
            let (spec, state) = genesis();
            let mut nonces = [0u64; 4];
            let targets: Vec<Address> = (0..4).map(|i| key(i).address()).chain([Address::repeat_byte(9), Address::repeat_byte(8)]).collect();
            let txs: Vec<_> = moves.iter().map(|(from, to, value, tip)| {
                let tx = transfer(*from, nonces[*from as usize], targets[*to as usize], U256::from(*value), *tip);
                nonces[*from as usize] += 1;
                tx
            }).collect();
            let out = execute_block(&spec, &state, &env(1_000), txs, ExecutionMode::Build, &NoContent, &NoContracts).unwrap();
            let mut view = MemoryState { changes: state.changes.clone() };
            view.apply(out.changes);
            let total = view.changes.accounts.values().fold(U256::ZERO, |sum, a| sum + a.balance);
            prop_assert_eq!(total, Amount::total_supply().wei());
        }
    }
}
