//! The node's inference engine: serves registered models, attributes every
//! answer and settles it on the ledger (DESIGN.md "An inference, end to end").
//!
//! [`ModelServer`] implements the OpenAI wire layer's
//! [`InferenceEngine`](crate::openai::InferenceEngine) for one provider
//! account (its key signs the settlements). For each request it:
//! 1. resolves the model among the registered, live models that list this
//!    provider (listed by name, or `name#id` when served models share one);
//! 2. checks the client's payment before generating — an EIP-712
//!    `InferenceAuthorization` with its signature, or a deposit for this
//!    provider — and caps `max_tokens` so the fee can never exceed the
//!    authorised maximum (nor what the payer holds);
//! 3. runs the model with `ol-models`: one [`Runtime`] per base model
//!    (loaded from the blob store on first use, fetched by hash from the
//!    peers when this node lacks them) with an LRU cache of LoRA
//!    adapters under a memory budget, generation on a blocking thread,
//!    text streamed as it is produced;
//! 4. attributes the output against the first datanet version the model was
//!    trained on whose index is recorded on chain (the same computation as
//!    `ol_attribute`), and
//! 5. submits the `IInference.settle` transaction signed by the provider,
//!    after simulating it against the head state so a settlement the ledger
//!    would refuse is reported instead of sent.
//!
//! The response's `attribution` object carries the datanet version, the
//! matched spans, the contributions with their contributors and basis
//! points, and the settlement (transaction hash, fee, payer, nonce).

use crate::{
    openai::{
        EngineError, FinishReason, GenerationOutcome, GenerationRequest, InferenceEngine,
        ModelEntry,
    },
    rpc::{RpcContext, attribution::attribute_output},
};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use futures::future::BoxFuture;
use ol_ledger::{
    StateView,
    inference::{
        self, Attributed, IInference, INFERENCE, InferenceAuthorization, InferenceReader,
        Settlement,
    },
    models::{Kind, Model, ModelsReader},
};
use ol_models::{GenerationParams, Runtime, WeightsHash};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

/// How a node serves models.
#[derive(Debug, Clone)]
pub struct ServingConfig {
    /// The provider account's private key: it must be an allowed provider
    /// of the models to serve, and it pays the settlements' gas.
    pub provider_key: B256,
    /// Memory budget of each base model's adapter cache, in bytes.
    pub adapter_budget_bytes: usize,
    /// Largest `max_tokens` a request may ask for.
    pub max_tokens: u32,
}

impl ServingConfig {
    /// Serving as the account of `provider_key` with the default budget
    /// (256 MiB of adapters) and limit (1,024 tokens).
    pub fn new(provider_key: B256) -> Self {
        Self { provider_key, adapter_budget_bytes: 256 << 20, max_tokens: 1024 }
    }
}

/// Longest a request waits for missing weights to be fetched from peers.
pub const WEIGHTS_FETCH_BUDGET: std::time::Duration = std::time::Duration::from_secs(120);

/// What a client sends as `payment`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Payment {
    /// Who pays: the signer of the authorisation, or the depositor.
    payer: Address,
    /// Most the client allows to be charged, in wei.
    max_fee: U256,
    /// Settles once per payer.
    nonce: U256,
    /// Unix seconds of block time after which it is void.
    expiry: u64,
    /// The EIP-712 signature (65 bytes); absent to pay from a deposit.
    signature: Option<Bytes>,
}

/// The engine: see the module documentation.
pub struct ModelServer {
    context: RpcContext,
    provider: PrivateKeySigner,
    config: ServingConfig,
    runtimes: Mutex<HashMap<B256, Arc<Runtime>>>,
    /// Fetches weights this node lacks from its peers.
    fetcher: Option<Arc<crate::blobs::BlobFetcher>>,
    /// The served models as of a block (its hash).
    served: Mutex<Option<(B256, Vec<Model>)>>,
    /// Serialises nonce choice and submission of the provider's settlements.
    submitting: Mutex<()>,
}

impl std::fmt::Debug for ModelServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelServer").field("provider", &self.provider.address()).finish()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn unavailable(what: impl std::fmt::Display) -> EngineError {
    EngineError::Unavailable(what.to_string())
}

fn internal(what: impl std::fmt::Display) -> EngineError {
    EngineError::Internal(what.to_string())
}

impl ModelServer {
    /// An engine over the node's chain, blob store and indexes (`context`;
    /// its own `inference` field is not used).
    pub fn new(mut context: RpcContext, config: ServingConfig) -> Result<Self, String> {
        context.inference = None;
        let provider = PrivateKeySigner::from_bytes(&config.provider_key)
            .map_err(|error| format!("the provider key is not a valid secp256k1 key: {error}"))?;
        Ok(Self {
            context,
            provider,
            config,
            runtimes: Mutex::new(HashMap::new()),
            fetcher: None,
            served: Mutex::new(None),
            submitting: Mutex::new(()),
        })
    }

    /// The same engine, fetching weights missing from the blob store from
    /// peers with `fetcher` (verified against their hash, under the store's
    /// size limit, within [`WEIGHTS_FETCH_BUDGET`]).
    pub fn with_fetcher(mut self, fetcher: Arc<crate::blobs::BlobFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// The weights blob `hash` (`what`: "weights" or "adapter weights"),
    /// fetched from the peers when this node lacks it.
    fn weights_blob(&self, hash: B256, what: &str) -> Result<Vec<u8>, String> {
        let blobs = &self.context.blobs;
        if let Some(bytes) = blobs.get(&hash).map_err(|e| e.to_string())? {
            return Ok(bytes);
        }
        let Some(fetcher) = &self.fetcher else {
            return Err(format!(
                "the {what} {hash} are not in this node's blob store and it has no peers to fetch them from"
            ));
        };
        tracing::info!(%hash, "fetching {what} from peers");
        fetcher.fetch_blocking(hash, WEIGHTS_FETCH_BUDGET).map_err(|error| {
            format!("the {what} {hash} are not in this node's blob store: {error}")
        })?;
        blobs.get(&hash).map_err(|e| e.to_string())?.ok_or_else(|| {
            format!("the {what} {hash} were fetched but are no longer in the blob store")
        })
    }

    /// The provider account.
    pub fn provider(&self) -> Address {
        self.provider.address()
    }

    /// Adapter-cache statistics of each resident base model.
    pub fn cache_stats(&self) -> Vec<(B256, ol_models::CacheStats)> {
        lock(&self.runtimes).iter().map(|(hash, runtime)| (*hash, runtime.stats())).collect()
    }

    /// The live models this provider may serve, in id order. Read once per
    /// block: every request lists them (the wire layer's model check, then
    /// the resolution of its name), and they change only with the chain.
    fn served_models(&self) -> Result<Vec<Model>, EngineError> {
        let state = self.context.chain.snapshot().map_err(internal)?;
        let block = state.header().hash;
        if let Some((at, models)) = lock(&self.served).as_ref()
            && *at == block
        {
            return Ok(models.clone());
        }
        let mut reader = ModelsReader::new(&state);
        let count = reader.model_count().map_err(internal)?;
        let mut models = Vec::new();
        for id in 1..=count {
            let Some(model) = reader.model(id).map_err(internal)? else { continue };
            if !model.retired && model.config.providers.contains(&self.provider()) {
                models.push(model);
            }
        }
        *lock(&self.served) = Some((block, models.clone()));
        Ok(models)
    }

    /// The name a served model is listed under: its name, or `name#id`
    /// when several served models share the name.
    fn listed_names(models: &[Model]) -> Vec<String> {
        models
            .iter()
            .map(|m| {
                let shared = models.iter().filter(|o| o.config.name == m.config.name).count() > 1;
                if shared { format!("{}#{}", m.config.name, m.id) } else { m.config.name.clone() }
            })
            .collect()
    }

    /// The model a request names, by its listed name.
    fn resolve(&self, name: &str) -> Result<Model, EngineError> {
        let models = self.served_models()?;
        let names = Self::listed_names(&models);
        models.into_iter().zip(names).find(|(_, listed)| listed == name).map(|(m, _)| m).ok_or_else(
            || {
                EngineError::UnknownModel(format!(
                    "the model `{name}` does not exist, is retired, or does not list {} as a provider",
                    self.provider()
                ))
            },
        )
    }

    fn runtime(&self, base: B256) -> Result<Arc<Runtime>, EngineError> {
        if let Some(runtime) = lock(&self.runtimes).get(&base) {
            return Ok(runtime.clone());
        }
        let bytes = self.weights_blob(base, "weights").map_err(unavailable)?;
        let model = ol_models::load_model(&bytes).map_err(|error| {
            unavailable(format!("the weights {base} cannot be loaded: {error}"))
        })?;
        let runtime = Arc::new(Runtime::new(Arc::new(model), self.config.adapter_budget_bytes));
        tracing::info!(base = %base, "loaded base model");
        Ok(lock(&self.runtimes).entry(base).or_insert(runtime).clone())
    }

    /// The runtime and adapter that serve `model`.
    fn weights(
        &self,
        model: &Model,
    ) -> Result<(Arc<Runtime>, Option<Arc<ol_models::Adapter>>), EngineError> {
        let config = &model.config;
        if config.kind != Kind::Adapter {
            return Ok((self.runtime(config.weightsHash)?, None));
        }
        let runtime = self.runtime(config.baseModel)?;
        let hash = config.weightsHash;
        let adapter = runtime
            .adapter(WeightsHash(hash.0), || self.weights_blob(hash, "adapter weights"))
            .map_err(unavailable)?;
        Ok((runtime, Some(adapter)))
    }

    /// The datanet version and recorded index the model's answers are
    /// attributed against.
    fn attribution_source<S: StateView>(
        &self,
        state: &S,
        model: &Model,
    ) -> Result<(u64, u32, B256), EngineError> {
        let mut reader = ol_ledger::datanets::DatanetsReader::new(state);
        for trained in &model.config.trainedOn {
            let found = reader
                .version_for_attribution(trained.datanetId, trained.version)
                .map_err(internal)?;
            if let Some((_, index)) = found
                && index != B256::ZERO
            {
                return Ok((trained.datanetId, trained.version, index));
            }
        }
        Err(unavailable(format!(
            "model {} cannot be attributed: none of the datanet versions it was trained on has a recorded index",
            model.id
        )))
    }

    /// Checks the payment and returns the most output tokens it covers.
    fn check_payment<S: StateView>(
        &self,
        state: &S,
        model: &Model,
        payment: &Payment,
        input_tokens: u32,
        now: u64,
    ) -> Result<u32, EngineError> {
        let payer = payment.payer;
        if payment.expiry < now {
            return Err(EngineError::Payment(format!(
                "the payment authorisation expired at {} (it is now {now})",
                payment.expiry
            )));
        }
        let mut reader = InferenceReader::new(state);
        if reader.nonce_used(payer, payment.nonce).map_err(internal)? {
            return Err(EngineError::Payment(format!(
                "authorisation nonce {} of {payer} has already settled; use a new nonce",
                payment.nonce
            )));
        }
        let available = match &payment.signature {
            Some(signature) => {
                let authorization = InferenceAuthorization {
                    modelId: model.id,
                    provider: self.provider(),
                    maxFee: payment.max_fee,
                    nonce: payment.nonce,
                    expiry: payment.expiry,
                };
                let hash = inference::authorization_signing_hash(
                    self.context.chain.spec().chain_id,
                    &authorization,
                );
                let signer = ol_primitives::recover_signer(signature, hash).map_err(|error| {
                    EngineError::Payment(format!("the payment signature is invalid: {error}"))
                })?;
                if signer != payer {
                    return Err(EngineError::Payment(format!(
                        "the payment authorisation was signed by {signer}, not {payer} (it must sign \
                         model {}, provider {}, maxFee, nonce and expiry exactly)",
                        model.id,
                        self.provider()
                    )));
                }
                ol_ledger::vesting::balance_at(state, &payer, now).map_err(internal)?.spendable
            }
            None => reader.deposit_of(payer, self.provider()).map_err(internal)?,
        };
        let params = reader.params().map_err(internal)?;
        let limit = payment.max_fee.min(available);
        let config = &model.config;
        let base = inference::fee_for(
            config.inputPricePer1k,
            U256::ZERO,
            input_tokens,
            0,
            params.platform_fee,
        )
        .ok_or_else(|| EngineError::Payment("the fee overflows".into()))?;
        if base > limit {
            return Err(EngineError::Payment(format!(
                "the prompt alone costs {base} wei; the payment covers {limit} wei (maxFee {}, \
                 available {available})",
                payment.max_fee
            )));
        }
        // The largest output count whose fee stays within the limit
        // (rounding down of the combined price can only make it cheaper).
        let affordable = if config.outputPricePer1k.is_zero() {
            u32::MAX
        } else {
            let budget = (limit - params.platform_fee) * U256::from(1_000u64)
                - config.inputPricePer1k * U256::from(input_tokens);
            let tokens = budget / config.outputPricePer1k;
            tokens.try_into().unwrap_or(u32::MAX)
        };
        if affordable == 0 {
            return Err(EngineError::Payment(format!(
                "the payment of at most {limit} wei does not cover one output token of model {}",
                model.id
            )));
        }
        Ok(affordable)
    }

    fn run(
        self: Arc<Self>,
        request: GenerationRequest,
        text: tokio::sync::mpsc::Sender<String>,
    ) -> Result<GenerationOutcome, EngineError> {
        let model = self.resolve(&request.model)?;
        let Some(payment) = request.payment.clone() else {
            return Err(EngineError::Payment(format!(
                "model {} charges per token: send `payment` {{payer, maxFee, nonce, expiry, \
                 signature}} — an EIP-712 InferenceAuthorization signed by the payer (domain \
                 \"{}\" version \"{}\", chain {}, verifying contract {INFERENCE}) — or omit \
                 `signature` to pay from a deposit made for provider {}",
                model.id,
                inference::DOMAIN_NAME,
                inference::DOMAIN_VERSION,
                self.context.chain.spec().chain_id,
                self.provider()
            )));
        };
        let payment: Payment =
            serde_json::from_value(payment).map_err(|error| EngineError::InvalidRequest {
                param: Some("payment".into()),
                message: format!("payment is malformed: {error}"),
            })?;
        let prompt_tokens = ol_models::tokenizer::encode(&request.prompt);
        let input_tokens = u32::try_from(prompt_tokens.len()).unwrap_or(u32::MAX);
        let state = self.context.chain.snapshot().map_err(internal)?;
        let now = self.context.chain.now().max(state.header().header.timestamp);
        let (datanet, version, index_hash) = self.attribution_source(&state, &model)?;
        let affordable = self.check_payment(&state, &model, &payment, input_tokens, now)?;
        let max_tokens = request.max_tokens.min(affordable);
        let (runtime, adapter) = self.weights(&model)?;

        let params = GenerationParams {
            max_tokens: max_tokens as usize,
            temperature: f64::from(request.temperature),
            top_p: f64::from(request.top_p),
            seed: request.seed.unwrap_or(0),
            stop: request.stop.clone(),
        };
        let mut pending = Vec::new();
        let started = std::time::Instant::now();
        let generation = runtime
            .generate(adapter, &prompt_tokens, &params, |token| {
                pending.extend(ol_models::tokenizer::decode_bytes(&[token]));
                let valid = match std::str::from_utf8(&pending) {
                    Ok(_) => pending.len(),
                    Err(error) => error.valid_up_to(),
                };
                if valid > 0 {
                    let piece = String::from_utf8_lossy(&pending[..valid]).into_owned();
                    pending.drain(..valid);
                    // A client that went away does not stop the settlement.
                    let _ = text.blocking_send(piece);
                }
            })
            .map_err(|error| EngineError::InvalidRequest {
                param: None,
                message: format!("the model cannot run this request: {error}"),
            })?;
        if !pending.is_empty() {
            let _ = text.blocking_send(String::from_utf8_lossy(&pending).into_owned());
        }
        let output = generation.text();
        let output_tokens = u32::try_from(generation.tokens.len()).unwrap_or(u32::MAX);
        let metrics = self.context.chain.metrics();
        metrics.generation_seconds.observe(started.elapsed().as_secs_f64());
        metrics.generated_tokens.inc_by(u64::from(output_tokens));
        let started = std::time::Instant::now();

        let attribution = attribute_output(&self.context, datanet, version, &output)
            .map_err(|error| unavailable(format!("attribution failed: {}", error.message())))?;
        // Built as a challenge recomputes it (`challenge::settlement_vector`).
        let vector: Vec<Attributed> = inference::challenge::settlement_vector(
            attribution.shares.iter().map(|share| (share.contribution.to(), share.bps)),
        )
        .into_iter()
        .map(|(id, bps)| Attributed { contributionId: id, bps })
        .collect();

        let state = self.context.chain.snapshot().map_err(internal)?;
        let platform_fee = InferenceReader::new(&state).params().map_err(internal)?.platform_fee;
        let fee = inference::fee_for(
            model.config.inputPricePer1k,
            model.config.outputPricePer1k,
            input_tokens,
            output_tokens,
            platform_fee,
        )
        .ok_or_else(|| EngineError::Payment("the fee overflows".into()))?;
        let settlement = Settlement {
            modelId: model.id,
            payer: payment.payer,
            promptHash: B256::from(<[u8; 32]>::from(Sha256::digest(request.prompt.as_bytes()))),
            outputHash: B256::from(<[u8; 32]>::from(Sha256::digest(output.as_bytes()))),
            inputTokens: input_tokens,
            outputTokens: output_tokens,
            fee,
            datanetId: datanet,
            version,
            indexHash: index_hash,
            attribution: vector,
            maxFee: payment.max_fee,
            nonce: payment.nonce,
            expiry: payment.expiry,
        };
        let signature = payment.signature.clone().unwrap_or_default();
        let transaction = self.submit_settlement(&settlement, signature)?;
        metrics.settlement_seconds.observe(started.elapsed().as_secs_f64());
        metrics.inferences.inc();

        let mut attribution = serde_json::to_value(&attribution).map_err(internal)?;
        attribution["settlement"] = serde_json::json!({
            "transactionHash": transaction,
            "modelId": model.id.to_string(),
            "fee": fee.to_string(),
            "payer": payment.payer,
            "provider": self.provider(),
            "nonce": payment.nonce.to_string(),
            "inputTokens": input_tokens,
            "outputTokens": output_tokens,
        });
        Ok(GenerationOutcome {
            finish_reason: match generation.finish {
                ol_models::FinishReason::MaxTokens => FinishReason::Length,
                _ => FinishReason::Stop,
            },
            prompt_tokens: input_tokens,
            completion_tokens: output_tokens,
            attribution,
        })
    }

    /// Simulates, signs and pools the settlement; returns its hash.
    fn submit_settlement(
        &self,
        settlement: &Settlement,
        signature: Bytes,
    ) -> Result<B256, EngineError> {
        let input =
            IInference::settleCall { settlement: settlement.clone(), signature }.abi_encode();
        let chain = &self.context.chain;
        let state = chain.snapshot().map_err(internal)?;
        let header = state.header().clone();
        let block = ol_primitives::BlockEnv {
            number: header.number() + 1,
            timestamp: chain.now().max(header.header.timestamp),
            beneficiary: Address::ZERO,
            base_fee: chain.next_base_fee(),
            gas_limit: chain.spec().block_gas_limit,
        };
        let env = ol_ledger::system::CallEnv {
            spec: chain.spec(),
            block: &block,
            caller: self.provider(),
            content: chain.content(),
        };
        let outcome = ol_ledger::system::call(&state, env, INFERENCE, &input, block.gas_limit / 2)
            .map_err(internal)?;
        if !outcome.success {
            let reason = outcome.revert_reason.unwrap_or_default();
            return Err(EngineError::Payment(format!("the settlement would be refused: {reason}")));
        }
        let intrinsic = ol_ledger::fees::intrinsic_gas_of(&input, None);
        // Storage first written by an earlier settlement in the same block
        // costs less, never more: a margin covers a changed state.
        let gas_limit = (intrinsic + outcome.gas_used) * 5 / 4 + 50_000;
        let _guard = lock(&self.submitting);
        let hash = chain
            .submit_signed_call(&self.provider, INFERENCE, input.into(), gas_limit)
            .map_err(|error| match error {
                crate::chain::SubmitError::Storage(error) => internal(error),
                error => EngineError::Unavailable(format!(
                    "the settlement transaction was refused: {error}"
                )),
            })?;
        tracing::info!(transaction = %hash, model = settlement.modelId, fee = %settlement.fee,
            contributions = settlement.attribution.len(), "settlement submitted");
        Ok(hash)
    }
}

impl InferenceEngine for Arc<ModelServer> {
    fn models(&self) -> Vec<ModelEntry> {
        let models = match self.served_models() {
            Ok(models) => models,
            Err(error) => {
                tracing::error!(%error, "listing served models failed");
                return Vec::new();
            }
        };
        let store = self.context.chain.store();
        let names = ModelServer::listed_names(&models);
        models
            .into_iter()
            .zip(names)
            .map(|(m, id)| ModelEntry {
                id,
                created: store
                    .header_by_number(m.registeredAtBlock)
                    .ok()
                    .flatten()
                    .map_or(0, |h| h.header.timestamp),
                owned_by: m.owner.to_string(),
            })
            .collect()
    }

    fn max_tokens_limit(&self) -> u32 {
        self.config.max_tokens
    }

    fn generate(
        &self,
        request: GenerationRequest,
        text: tokio::sync::mpsc::Sender<String>,
    ) -> BoxFuture<'static, Result<GenerationOutcome, EngineError>> {
        let server = self.clone();
        Box::pin(async move {
            let outcome = tokio::task::spawn_blocking({
                let server = server.clone();
                move || server.run(request, text)
            })
            .await
            .map_err(|error| internal(format!("the generation task failed: {error}")))?;
            if outcome.is_err() {
                server.context.chain.metrics().inferences_refused.inc();
            }
            outcome
        })
    }
}
