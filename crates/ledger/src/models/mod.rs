//! The model registry: models trained from datanet versions.
//!
//! The rules of the `IModels` system contract (`contracts/IModels.sol`) at
//! [`MODELS`]. A model records its provenance by hash (base model, training
//! configuration, weights — safetensors in the node's blob store — and the
//! published datanet versions it was trained on, each checked to exist), its
//! prices per 1,000 input and output tokens, and the providers allowed to
//! serve it. Registering moves the deployment fee ([`Params`], governable;
//! default 10 OPEN) from the owner's spendable OPEN to the treasury. The
//! owner may change prices and providers until it retires the model; a
//! retired model stays readable but can no longer change (and, with the
//! inference contract, no longer be served or settled).
//!
//! Storage: `counts` → model count; `model[id]` + 0 owner, + 1 packed
//! (retired, registered-at block), + 2 the ABI-encoded `ModelConfig`;
//! `model.provider[id, account]` → 1 for an allowed provider; `params` + 0
//! set flag, + 1 deployment fee.

use crate::{
    datanets::DatanetsReader,
    revert,
    state::StateView,
    system::{
        CallError, Frame, check_text, gas, move_balance, only_governance,
        slots::{KeyPart, field, pack, slot, unpack},
    },
    vesting,
};
use IModels::IModelsCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
pub use ol_primitives::addresses::MODELS;
use ol_primitives::addresses::TREASURY;

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IModels.sol"
);

pub use IModels::{DatanetVersion, Kind, Model, ModelConfig};

type Result<T> = std::result::Result<T, CallError>;

/// Longest model name, in bytes.
pub const MAX_NAME: usize = 64;
/// Most datanet versions a model names.
pub const MAX_TRAINED_ON: usize = 16;
/// Most providers of one model.
pub const MAX_PROVIDERS: usize = 64;

/// Governable parameters of the registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// OPEN (wei) paid to the treasury for registering a model.
    pub deployment_fee: U256,
}

impl Default for Params {
    /// 10 OPEN.
    fn default() -> Self {
        Self { deployment_fee: U256::from(10u64) * U256::from(10u64).pow(U256::from(18)) }
    }
}

fn counts_slot() -> B256 {
    slot("counts", &[])
}
fn model_slot(id: u64) -> B256 {
    slot("model", &[KeyPart::U64(id)])
}
fn provider_slot(id: u64, account: &Address) -> B256 {
    slot("model.provider", &[KeyPart::U64(id), KeyPart::Address(account)])
}
fn params_slot() -> B256 {
    slot("params", &[])
}

fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    Ok(Params { deployment_fee: frame.load(field(base, 1))? })
}

/// Sets the registry's parameters (for governance).
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(field(base, 1), new.deployment_fee)
}

fn config<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<ModelConfig> {
    let bytes = frame.load_bytes(field(model_slot(id), 2))?;
    ModelConfig::abi_decode(&bytes).map_err(|error| {
        CallError::State(crate::StateError(format!("model {id} config is corrupt: {error}")))
    })
}

fn model<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Model>> {
    let base = model_slot(id);
    let owner = frame.load_address(base)?;
    if owner == Address::ZERO {
        return Ok(None);
    }
    let [retired, registered_at, ..] = unpack(frame.load(field(base, 1))?);
    Ok(Some(Model {
        id,
        owner,
        config: config(frame, id)?,
        retired: retired != 0,
        registeredAtBlock: registered_at,
    }))
}

/// Runs one ABI-encoded call against the model registry.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = crate::system::decode_call("IModels", input)?;
    let output = match call {
        Call::registerModel(c) => {
            IModels::registerModelCall::abi_encode_returns(&register(frame, c.config)?)
        }
        Call::setPrices(c) => {
            let mut config = require_live_owner(frame, c.modelId)?;
            config.inputPricePer1k = c.inputPricePer1k;
            config.outputPricePer1k = c.outputPricePer1k;
            frame.store_bytes(field(model_slot(c.modelId), 2), &config.abi_encode())?;
            emit(
                frame,
                IModels::PricesUpdated {
                    modelId: c.modelId,
                    inputPricePer1k: c.inputPricePer1k,
                    outputPricePer1k: c.outputPricePer1k,
                },
            )?;
            Vec::new()
        }
        Call::setProviders(c) => {
            let mut config = require_live_owner(frame, c.modelId)?;
            check_providers(&c.providers)?;
            for old in &config.providers {
                frame.store(provider_slot(c.modelId, old), U256::ZERO)?;
            }
            for new in &c.providers {
                frame.store(provider_slot(c.modelId, new), U256::from(1))?;
            }
            config.providers = c.providers.clone();
            frame.store_bytes(field(model_slot(c.modelId), 2), &config.abi_encode())?;
            emit(frame, IModels::ProvidersUpdated { modelId: c.modelId, providers: c.providers })?;
            Vec::new()
        }
        Call::retire(c) => {
            require_live_owner(frame, c.modelId)?;
            let base = field(model_slot(c.modelId), 1);
            let [_, registered_at, ..] = unpack(frame.load(base)?);
            frame.store(base, pack([1, registered_at, 0, 0]))?;
            emit(frame, IModels::ModelRetired { modelId: c.modelId })?;
            Vec::new()
        }
        Call::modelCount(_) => frame.load_u64(counts_slot())?.abi_encode(),
        Call::getModel(c) => match model(frame, c.modelId)? {
            Some(model) => IModels::getModelCall::abi_encode_returns(&model),
            None => revert!("model {} does not exist", c.modelId),
        },
        Call::isProvider(c) => {
            (!frame.load(provider_slot(c.modelId, &c.account))?.is_zero()).abi_encode()
        }
        Call::deploymentFee(_) => params(frame)?.deployment_fee.abi_encode(),
        Call::params(_) => IModels::paramsCall::abi_encode_returns(&IModels::Params {
            deploymentFee: params(frame)?.deployment_fee,
        }),
        Call::setParams(c) => {
            only_governance(frame, "IModels.setParams")?;
            set_params(frame, Params { deployment_fee: c.params.deploymentFee })?;
            emit(frame, IModels::ParamsChanged { params: c.params })?;
            Vec::new()
        }
    };
    Ok(output.into())
}

fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

/// The config of a model the caller owns and has not retired.
fn require_live_owner<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<ModelConfig> {
    let Some(model) = model(frame, id)? else { revert!("model {id} does not exist") };
    if model.owner != frame.env.caller {
        revert!("only the owner of model {id} ({}) may do this", model.owner);
    }
    if model.retired {
        revert!("model {id} is retired");
    }
    Ok(model.config)
}

fn check_providers(providers: &[Address]) -> Result<()> {
    if providers.len() > MAX_PROVIDERS {
        revert!("{} providers; at most {MAX_PROVIDERS} allowed", providers.len());
    }
    let mut seen = providers.to_vec();
    seen.sort_unstable();
    if let Some(pair) = seen.windows(2).find(|pair| pair[0] == pair[1]) {
        revert!("provider {} is listed twice", pair[0]);
    }
    if providers.contains(&Address::ZERO) {
        revert!("the zero address cannot be a provider");
    }
    Ok(())
}

fn register<S: StateView>(frame: &mut Frame<'_, S>, config: ModelConfig) -> Result<u64> {
    if config.name.trim().is_empty() {
        revert!("a model needs a name");
    }
    check_text("name", &config.name, MAX_NAME)?;
    if config.weightsHash == B256::ZERO {
        revert!("a model needs the sha256 of its weights");
    }
    if config.kind == Kind::Adapter && config.baseModel == B256::ZERO {
        revert!("an adapter needs the hash of its base model");
    }
    if config.trainedOn.is_empty() {
        revert!("a model must name at least one datanet version it was trained on");
    }
    if config.trainedOn.len() > MAX_TRAINED_ON {
        revert!("{} datanet versions; at most {MAX_TRAINED_ON} allowed", config.trainedOn.len());
    }
    for reference in &config.trainedOn {
        frame.gas.charge(2 * gas::LOAD)?;
        let exists = DatanetsReader::new(&frame.state)
            .version(reference.datanetId, reference.version)?
            .is_some();
        if !exists {
            revert!(
                "datanet {} has no published version {}",
                reference.datanetId,
                reference.version
            );
        }
    }
    check_providers(&config.providers)?;

    let owner = frame.env.caller;
    let fee = params(frame)?.deployment_fee;
    let spendable = vesting::balance_at(&frame.state, &owner, frame.env.block.timestamp)?.spendable;
    if spendable < fee {
        revert!("the deployment fee is {fee} wei; {owner} can spend {spendable} wei");
    }
    move_balance(frame, owner, TREASURY, fee)?;

    let id = frame.load_u64(counts_slot())? + 1;
    frame.store(counts_slot(), U256::from(id))?;
    let base = model_slot(id);
    frame.store_address(base, owner)?;
    frame.store(field(base, 1), pack([0, frame.env.block.number, 0, 0]))?;
    frame.store_bytes(field(base, 2), &config.abi_encode())?;
    for provider in &config.providers {
        frame.store(provider_slot(id, provider), U256::from(1))?;
    }
    emit(
        frame,
        IModels::ModelRegistered {
            modelId: id,
            owner,
            weightsHash: config.weightsHash,
            deploymentFee: fee,
        },
    )?;
    Ok(id)
}

/// Read-only access to the registry, for RPC and tools.
pub struct ModelsReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for ModelsReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ModelsReader")
    }
}

impl<'a, S: StateView> ModelsReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, MODELS) }
    }

    /// Number of models registered.
    pub fn model_count(&mut self) -> Result<u64> {
        self.frame.load_u64(counts_slot())
    }

    /// A model, `None` if it does not exist.
    pub fn model(&mut self, id: u64) -> Result<Option<Model>> {
        model(&mut self.frame, id)
    }

    /// True when `account` may serve model `id`.
    pub fn is_provider(&mut self, id: u64, account: Address) -> Result<bool> {
        Ok(!self.frame.load(provider_slot(id, &account))?.is_zero())
    }

    /// The registry's parameters.
    pub fn params(&mut self) -> Result<Params> {
        params(&mut self.frame)
    }
}

#[cfg(test)]
mod tests;
