//! The OpenLedger EVM host: user contracts run in revm.
//!
//! [`Revm`] implements the ledger's [`ContractRuntime`] seam. revm reads the
//! ledger's state through [`StateDatabase`] (accounts, storage, code by
//! hash) and runs one transaction with Ethereum's Cancun rules (EIP-170 and
//! EIP-3860 limits, EIP-3529 refunds); its resulting state is turned back
//! into the ledger's [`StateChanges`]. Nothing is written here.
//! [`trace::Tracing`] runs the same way and records the call tree, as geth's
//! `callTracer` reports it (`debug_traceTransaction`).
//!
//! Fees are the ledger's: revm runs with fee charging off (the sender has
//! already bought the gas, and the ledger refunds it and pays the treasury
//! and the producer afterwards), but sees the real gas price and base fee.
//!
//! The system contracts are precompiles at their addresses ([`system`]): a
//! contract calls them as it calls any contract, and their native rules
//! write through revm's journal. `BLOCKHASH` reads the node's block index
//! through [`ol_ledger::StateView::block_hash`].

use alloy_primitives::{Address, B256, Bytes, U256};
use ol_ledger::{
    ChainSpec, ContractCall, ContractError, ContractOutcome, ContractRuntime, StateChanges,
    StateError, StateView, content::ContentSource, state::EMPTY_CODE_HASH,
};
use ol_primitives::BlockEnv;
use revm::{
    Context, Database, ExecuteEvm, MainBuilder, MainContext,
    bytecode::Bytecode,
    context::{
        TxEnv,
        result::{EVMError, ExecutionResult, Output},
    },
    context_interface::transaction::{AccessList, AccessListItem},
    database_interface::DBErrorMarker,
    handler::MainnetContext,
    primitives::hardfork::SpecId,
    state::{AccountInfo, EvmState},
};

pub mod system;
pub mod trace;

use system::SystemPrecompiles;

/// The Ethereum rules user contracts run under.
pub const SPEC: SpecId = SpecId::CANCUN;

/// The revm-backed [`ContractRuntime`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Revm;

impl ContractRuntime for Revm {
    fn transact(
        &self,
        spec: &ChainSpec,
        state: &dyn StateView,
        env: &BlockEnv,
        call: &ContractCall<'_>,
        content: &dyn ContentSource,
    ) -> Result<ContractOutcome, ContractError> {
        let precompiles = SystemPrecompiles::new(SPEC, spec, *env, content);
        let mut evm = context(spec, state, env, call).build_mainnet().with_precompiles(precompiles);
        let result = evm.transact(tx_env(spec, call)).map_err(contract_error)?;
        Ok(outcome(result.result, &result.state))
    }
}

/// The revm context `call` runs in: Cancun rules, fee charging off, block
/// `env` over `state`.
fn context<'a>(
    spec: &ChainSpec,
    state: &'a dyn StateView,
    env: &BlockEnv,
    call: &ContractCall<'_>,
) -> MainnetContext<StateDatabase<'a>> {
    Context::mainnet()
        .with_db(StateDatabase { state })
        .modify_cfg_chained(|cfg| {
            // The spec's own gas table: `spec` alone would leave revm's default
            // (Osaka's, with EIP-7623's calldata floor) in place.
            cfg.set_spec_and_mainnet_gas_params(SPEC);
            cfg.chain_id = spec.chain_id;
            cfg.disable_fee_charge = true;
            // The ledger checked the fee cap; `eth_call` may price at 0.
            cfg.disable_base_fee = true;
            cfg.disable_nonce_check = call.nonce.is_none();
        })
        .modify_block_chained(|block: &mut revm::context::BlockEnv| {
            block.number = U256::from(env.number);
            block.timestamp = U256::from(env.timestamp);
            block.beneficiary = env.beneficiary;
            block.basefee = env.base_fee;
            block.gas_limit = env.gas_limit;
            block.difficulty = U256::ZERO;
            block.prevrandao = Some(B256::ZERO);
            block.set_blob_excess_gas_and_price(0, 1);
        })
}

/// revm's failure as the seam's: a refused transaction or a state failure.
fn contract_error(error: EVMError<DatabaseError>) -> ContractError {
    match error {
        EVMError::Database(DatabaseError(error)) => ContractError::State(error),
        EVMError::Transaction(invalid) => ContractError::Refused(invalid.to_string()),
        other => ContractError::State(StateError(format!("EVM failure: {other}"))),
    }
}

fn tx_env(spec: &ChainSpec, call: &ContractCall<'_>) -> TxEnv {
    let access_list = call
        .access_list
        .map(|list| {
            AccessList(
                list.iter()
                    .map(|item| AccessListItem {
                        address: item.address,
                        storage_keys: item.storage_keys.clone(),
                    })
                    .collect(),
            )
        })
        .unwrap_or_default();
    TxEnv {
        // EIP-2930 shape: one price per gas (the ledger's effective price)
        // and an access list.
        tx_type: 1,
        caller: call.sender,
        gas_limit: call.gas_limit,
        gas_price: call.gas_price,
        kind: call.kind,
        value: call.value,
        data: Bytes::copy_from_slice(call.input),
        nonce: call.nonce.unwrap_or_default(),
        chain_id: Some(spec.chain_id),
        access_list,
        gas_priority_fee: None,
        ..TxEnv::default()
    }
}

/// The ledger's view of revm's result.
fn outcome(result: ExecutionResult, state: &EvmState) -> ContractOutcome {
    let changes = state_changes(state);
    match result {
        ExecutionResult::Success { gas, logs, output, .. } => {
            let (output, created) = match output {
                Output::Call(bytes) => (bytes, None),
                // What the init code returned (the deployed code): what
                // `eth_call` without `to` answers, as geth does.
                Output::Create(bytes, address) => (bytes, address),
            };
            ContractOutcome {
                success: true,
                gas_used: gas.tx_gas_used(),
                output,
                logs,
                created,
                halt: None,
                changes,
            }
        }
        ExecutionResult::Revert { gas, output, .. } => ContractOutcome {
            success: false,
            gas_used: gas.tx_gas_used(),
            output,
            changes,
            ..ContractOutcome::default()
        },
        ExecutionResult::Halt { reason, gas, .. } => ContractOutcome {
            success: false,
            gas_used: gas.tx_gas_used(),
            halt: Some(format!("{reason:?}")),
            changes,
            ..ContractOutcome::default()
        },
    }
}

/// revm's touched accounts as ledger changes. An account revm only loaded,
/// or that EIP-161 leaves empty and never existed, is not written.
fn state_changes(state: &EvmState) -> StateChanges {
    let mut changes = StateChanges::default();
    for (address, account) in state {
        if !account.is_touched() {
            continue;
        }
        if account.is_selfdestructed() {
            // EIP-6780: only an account created in this transaction is
            // destroyed, so its storage is only what it wrote here.
            changes.accounts.insert(*address, ol_ledger::Account::default());
            let slots = changes.storage.entry(*address).or_default();
            for slot in account.storage.keys() {
                slots.insert(B256::from(*slot), U256::ZERO);
            }
            continue;
        }
        let info = &account.info;
        let ledger_account = ol_ledger::Account {
            nonce: info.nonce,
            balance: info.balance,
            code_hash: info.code_hash,
        };
        // A system contract keeps storage with no account record: its
        // storage is written even when the account itself is not.
        if !(ledger_account.is_empty() && account.is_loaded_as_not_existing()) {
            changes.accounts.insert(*address, ledger_account);
        }
        if account.is_created()
            && info.code_hash != EMPTY_CODE_HASH
            && let Some(code) = &info.code
        {
            changes.code.insert(info.code_hash, code.original_bytes());
        }
        let slots: Vec<_> = account.changed_storage_slots().collect();
        if !slots.is_empty() {
            let entry = changes.storage.entry(*address).or_default();
            for (slot, value) in slots {
                entry.insert(B256::from(*slot), value.present_value);
            }
        }
    }
    changes
}

/// A ledger state read failure, as revm's database error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DatabaseError(pub StateError);

impl DBErrorMarker for DatabaseError {}

/// revm's [`Database`] over the ledger's [`StateView`].
pub struct StateDatabase<'a> {
    /// The state revm reads.
    pub state: &'a dyn StateView,
}

impl std::fmt::Debug for StateDatabase<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateDatabase")
    }
}

impl Database for StateDatabase<'_> {
    type Error = DatabaseError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, DatabaseError> {
        let Some(account) = self.state.account(&address).map_err(DatabaseError)? else {
            return Ok(None);
        };
        // `code: None`: revm loads the code by hash when it needs it.
        let mut info = AccountInfo::default()
            .with_balance(account.balance)
            .with_nonce(account.nonce)
            .with_code_hash(account.code_hash);
        info.code = (account.code_hash == EMPTY_CODE_HASH).then(Bytecode::default);
        Ok(Some(info))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, DatabaseError> {
        if code_hash == EMPTY_CODE_HASH {
            return Ok(Bytecode::default());
        }
        match self.state.code(&code_hash).map_err(DatabaseError)? {
            Some(code) => Ok(Bytecode::new_raw(code)),
            None => Err(DatabaseError(StateError(format!(
                "code {code_hash} is referenced by an account but not stored"
            )))),
        }
    }

    fn storage(&mut self, address: Address, slot: U256) -> Result<U256, DatabaseError> {
        self.state.storage(&address, &B256::from(slot)).map_err(DatabaseError)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, DatabaseError> {
        // revm asks only within the 256 blocks below the executing one; a
        // state that does not know the chain (tests, genesis) answers zero.
        Ok(self.state.block_hash(number).map_err(DatabaseError)?.unwrap_or_default())
    }
}

#[cfg(test)]
mod tests;
