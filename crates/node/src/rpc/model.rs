//! `ol_` methods that read the model registry (`contracts/IModels.sol`).

use super::{
    RpcContext,
    datanet::read_error,
    eth::{Positional, state_at},
};
use alloy_primitives::{Address, B256, U64, U256};
use jsonrpsee::{
    RpcModule,
    types::{ErrorObjectOwned, Params},
};
use ol_ledger::models::{Kind, Model, ModelsReader};
use serde::{Deserialize, Serialize};

type RpcResult<T> = Result<T, ErrorObjectOwned>;

/// A datanet version a model was trained on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrainedOnJson {
    /// The datanet.
    pub datanet_id: U64,
    /// Its version.
    pub version: U64,
}

/// A model as served over JSON-RPC.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelJson {
    /// Its id.
    pub id: U64,
    /// Its owner.
    pub owner: Address,
    /// Name.
    pub name: String,
    /// `full` or `adapter`.
    pub kind: String,
    /// sha256 of the base model's weights, if any.
    pub base_model: Option<B256>,
    /// The datanet versions it was trained on.
    pub trained_on: Vec<TrainedOnJson>,
    /// sha256 of the training configuration.
    pub training_config_hash: B256,
    /// sha256 of the weights in the blob store.
    pub weights_hash: B256,
    /// Wei of OPEN per 1,000 input tokens.
    pub input_price_per_1k: U256,
    /// Wei of OPEN per 1,000 output tokens.
    pub output_price_per_1k: U256,
    /// Accounts allowed to serve it.
    pub providers: Vec<Address>,
    /// Retired for good.
    pub retired: bool,
    /// Block it was registered in.
    pub registered_at_block: U64,
}

impl From<Model> for ModelJson {
    fn from(m: Model) -> Self {
        let c = m.config;
        Self {
            id: U64::from(m.id),
            owner: m.owner,
            name: c.name,
            kind: if c.kind == Kind::Adapter { "adapter" } else { "full" }.into(),
            base_model: (c.baseModel != B256::ZERO).then_some(c.baseModel),
            trained_on: c
                .trainedOn
                .iter()
                .map(|t| TrainedOnJson {
                    datanet_id: U64::from(t.datanetId),
                    version: U64::from(t.version),
                })
                .collect(),
            training_config_hash: c.trainingConfigHash,
            weights_hash: c.weightsHash,
            input_price_per_1k: c.inputPricePer1k,
            output_price_per_1k: c.outputPricePer1k,
            providers: c.providers,
            retired: m.retired,
            registered_at_block: U64::from(m.registeredAtBlock),
        }
    }
}

/// Registers the methods.
pub fn register(module: &mut RpcModule<RpcContext>) {
    module
        .register_blocking_method("ol_getModel", |params, ctx, _| get_model(params, &ctx))
        .expect("registered once");
    module
        .register_blocking_method("ol_modelCount", |params, ctx, _| model_count(params, &ctx))
        .expect("registered once");
}

fn get_model(params: Params<'_>, ctx: &RpcContext) -> RpcResult<Option<ModelJson>> {
    let mut p = Positional::new(params, "ol_getModel")?;
    let id: U64 = p.required("model id")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    let model = ModelsReader::new(&state).model(id.to()).map_err(read_error)?;
    Ok(model.map(Into::into))
}

fn model_count(params: Params<'_>, ctx: &RpcContext) -> RpcResult<U64> {
    let mut p = Positional::new(params, "ol_modelCount")?;
    let block = p.optional("block")?;
    p.finish()?;
    let state = state_at(ctx, block)?;
    Ok(U64::from(ModelsReader::new(&state).model_count().map_err(read_error)?))
}
