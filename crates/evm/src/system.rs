//! The system contracts as precompiles.
//!
//! [`SystemPrecompiles`] is revm's [`PrecompileProvider`]: Ethereum's
//! precompiles, plus one at every system contract address. A `CALL` or
//! `STATICCALL` from a contract to a system address runs the ledger's native
//! rules ([`system::call`]) with the calling contract as the caller, over
//! revm's journaled state as it stands (this transaction's uncommitted
//! writes included). The rules return their writes instead of making them;
//! they go into revm's journal here, inside the call's checkpoint, so an
//! outer revert undoes them as it undoes any EVM write. Their logs join the
//! journal as the system contract's logs and their gas is the call's.
//!
//! Refused, with an `Error(string)` revert: value sent along (the system
//! contracts are not payable), `DELEGATECALL` and `CALLCODE` (they would run
//! the rules as the delegating contract's caller), malformed calldata (the
//! rules' own reason). A `STATICCALL` that would write or log halts with
//! `StateChangeDuringStaticCall`, as an `SSTORE` there would. A system
//! contract never calls user code, so no reentrancy into user code starts
//! here.

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{Revert, SolError};
use ol_ledger::{
    ChainSpec, StateChanges, StateError, StateView,
    content::ContentSource,
    state::EMPTY_CODE_HASH,
    system::{self, CallEnv},
};
use ol_primitives::{BlockEnv, addresses};
use revm::{
    Database,
    context::Cfg,
    context_interface::{ContextTr, JournalTr, journaled_state::account::JournaledAccountTr},
    handler::{EthPrecompiles, PrecompileProvider},
    interpreter::{CallInputs, CallScheme, Gas, InstructionResult, InterpreterResult},
    primitives::{AddressSet, hardfork::SpecId},
    state::EvmState,
};
use std::cell::RefCell;

/// The addresses where a contract reaches native rules: every callable
/// system contract, and vesting (which refuses calls with a reason).
pub const SYSTEM_CONTRACTS: [Address; 7] = [
    addresses::VESTING,
    addresses::DATANETS,
    addresses::MODELS,
    addresses::INFERENCE,
    addresses::STAKING,
    addresses::AGENTS,
    addresses::GOVERNANCE,
];

/// Ethereum's precompiles and the system contracts, for one transaction.
pub(crate) struct SystemPrecompiles<'a> {
    ethereum: EthPrecompiles,
    warm: AddressSet,
    spec: &'a ChainSpec,
    block: BlockEnv,
    content: &'a dyn ContentSource,
}

impl std::fmt::Debug for SystemPrecompiles<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemPrecompiles").field("block", &self.block).finish_non_exhaustive()
    }
}

impl<'a> SystemPrecompiles<'a> {
    /// The precompiles of `spec_id`, with the system contracts answering as
    /// of `block` on chain `spec`.
    pub(crate) fn new(
        spec_id: SpecId,
        spec: &'a ChainSpec,
        block: BlockEnv,
        content: &'a dyn ContentSource,
    ) -> Self {
        let ethereum = EthPrecompiles::new(spec_id);
        let warm = warm_set(&ethereum);
        Self { ethereum, warm, spec, block, content }
    }

    /// Runs a call to system contract `to` made from EVM code.
    fn run_system<CTX>(
        &self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<InterpreterResult, String>
    where
        CTX: ContextTr<Journal: JournalTr<State = EvmState>>,
    {
        let to = inputs.bytecode_address;
        match inputs.scheme {
            CallScheme::Call | CallScheme::StaticCall => {}
            CallScheme::DelegateCall | CallScheme::CallCode => {
                return Ok(refused(
                    format!(
                        "system contract {to} cannot run as another contract's code \
                         (DELEGATECALL or CALLCODE); CALL it"
                    ),
                    inputs.gas_limit,
                ));
            }
        }
        let value = inputs.value.get();
        if !value.is_zero() {
            return Ok(refused(
                format!("system contract {to} is not payable; {value} wei sent"),
                inputs.gas_limit,
            ));
        }
        let input = inputs.input.bytes(context);
        let env = CallEnv {
            spec: self.spec,
            block: &self.block,
            caller: inputs.caller,
            content: self.content,
        };
        let view = JournalView { journal: RefCell::new(context.journal_mut()) };
        let outcome =
            system::call(&view, env, to, &input, inputs.gas_limit).map_err(|e| e.to_string())?;
        let journal = view.journal.into_inner();
        let mut gas = Gas::new(inputs.gas_limit);
        if !outcome.success {
            if outcome.output.is_empty() {
                gas.spend_all();
                return Ok(InterpreterResult::new(
                    InstructionResult::PrecompileOOG,
                    Bytes::new(),
                    gas,
                ));
            }
            charge(&mut gas, outcome.gas_used);
            return Ok(InterpreterResult::new(InstructionResult::Revert, outcome.output, gas));
        }
        if inputs.is_static && (!outcome.changes.is_empty() || !outcome.logs.is_empty()) {
            gas.spend_all();
            return Ok(InterpreterResult::new(
                InstructionResult::StateChangeDuringStaticCall,
                Bytes::new(),
                gas,
            ));
        }
        apply(journal, outcome.changes)?;
        for log in outcome.logs {
            journal.log(log);
        }
        charge(&mut gas, outcome.gas_used);
        Ok(InterpreterResult::new(InstructionResult::Return, outcome.output, gas))
    }
}

impl<CTX> PrecompileProvider<CTX> for SystemPrecompiles<'_>
where
    CTX: ContextTr<Cfg: Cfg<Spec = SpecId>, Journal: JournalTr<State = EvmState>>,
{
    type Output = InterpreterResult;

    fn set_spec(&mut self, spec: SpecId) -> bool {
        let changed =
            <EthPrecompiles as PrecompileProvider<CTX>>::set_spec(&mut self.ethereum, spec);
        self.warm = warm_set(&self.ethereum);
        changed
    }

    fn run(
        &mut self,
        context: &mut CTX,
        inputs: &CallInputs,
    ) -> Result<Option<InterpreterResult>, String> {
        if SYSTEM_CONTRACTS.contains(&inputs.bytecode_address) {
            return self.run_system(context, inputs).map(Some);
        }
        self.ethereum.run(context, inputs)
    }

    fn warm_addresses(&self) -> &AddressSet {
        &self.warm
    }
}

fn warm_set(ethereum: &EthPrecompiles) -> AddressSet {
    let mut warm = ethereum.warm_addresses().clone();
    warm.extend(SYSTEM_CONTRACTS);
    warm
}

/// A revert with `reason` before any native rule ran: no gas beyond the
/// `CALL` itself.
fn refused(reason: String, gas_limit: u64) -> InterpreterResult {
    InterpreterResult::new(
        InstructionResult::Revert,
        Revert::from(reason).abi_encode().into(),
        Gas::new(gas_limit),
    )
}

fn charge(gas: &mut Gas, used: u64) {
    // The rules never report more than they were given (their meter stops
    // at the limit); if they did, the frame would halt out of gas instead.
    if !gas.record_regular_cost(used) {
        gas.spend_all();
    }
}

/// Writes the rules' changes into revm's journal, so that reverting the
/// call's checkpoint (or any outer one) undoes them.
fn apply<J: JournalTr>(journal: &mut J, changes: StateChanges) -> Result<(), String> {
    if let Some(hash) = changes.code.keys().next() {
        return Err(format!("a system contract tried to deploy code {hash}"));
    }
    for (address, account) in changes.accounts {
        let mut loaded = journal.load_account_mut(address).map_err(|e| e.to_string())?.data;
        if *loaded.code_hash() != account.code_hash {
            return Err(format!("a system contract tried to change the code of {address}"));
        }
        loaded.set_balance(account.balance);
        if loaded.nonce() != account.nonce {
            loaded.set_nonce(account.nonce);
        }
    }
    for (address, slots) in changes.storage {
        // Touched, so that the storage of a system account with no account
        // record is kept at the end of the transaction.
        journal.load_account_mut(address).map_err(|e| e.to_string())?.data.touch();
        for (slot, value) in slots {
            journal.sstore(address, slot.into(), value).map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// The ledger's [`StateView`] over revm's journal: what the running
/// transaction sees, its uncommitted writes included. Reads load through
/// the journal (warming what they touch, as the EVM's own reads do).
struct JournalView<'a, J> {
    journal: RefCell<&'a mut J>,
}

fn state_error(error: impl std::fmt::Display) -> StateError {
    StateError(error.to_string())
}

impl<J: JournalTr<State = EvmState>> StateView for JournalView<'_, J> {
    fn account(&self, address: &Address) -> Result<Option<ol_ledger::Account>, StateError> {
        let mut journal = self.journal.borrow_mut();
        let account = journal.load_account(*address).map_err(state_error)?.data;
        if account.is_loaded_as_not_existing() && account.info.is_empty() {
            return Ok(None);
        }
        Ok(Some(ol_ledger::Account {
            nonce: account.info.nonce,
            balance: account.info.balance,
            code_hash: account.info.code_hash,
        }))
    }

    fn storage(&self, address: &Address, slot: &B256) -> Result<U256, StateError> {
        let mut journal = self.journal.borrow_mut();
        journal.load_account(*address).map_err(state_error)?;
        Ok(journal.sload(*address, (*slot).into()).map_err(state_error)?.data)
    }

    fn code(&self, code_hash: &B256) -> Result<Option<Bytes>, StateError> {
        if *code_hash == EMPTY_CODE_HASH {
            return Ok(Some(Bytes::new()));
        }
        let mut journal = self.journal.borrow_mut();
        // Code deployed by this transaction is only in the journal.
        let created = journal.evm_state().values().find_map(|account| {
            let code = account.info.code.as_ref()?;
            (account.info.code_hash == *code_hash).then(|| code.original_bytes())
        });
        if created.is_some() {
            return Ok(created);
        }
        let code = journal.db_mut().code_by_hash(*code_hash).map_err(state_error)?;
        Ok(Some(code.original_bytes()))
    }
}
