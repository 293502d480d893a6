//! The chain the settlements run on: a store in a temporary directory with
//! the genesis written by the node's own `Chain::open` (as the chain
//! benchmark does), a datanet whose contributions are the corpus documents,
//! a published version with the attribution index's hash recorded, and a
//! model served by one provider. Blocks are applied as the chain benchmark
//! applies transfers: raw bytes → decode → recover (all cores) →
//! `execute_block` → transactions/receipts roots → `Store::commit_block`.

use crate::apply::Phases;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use ol_ledger::{
    ChainSpec, ContentFacts, ContentProblem, ContentSource, ExecutionMode, Genesis, ParseOptions,
    content::MINHASH_SLOTS,
    datanets::{DATANETS, DatanetConfig, Format, IDatanets, Policy},
    execute_block,
    genesis::{Allocation, DEFAULT_BASE_FEE, DEFAULT_GAS_LIMIT},
    inference::{self, Attributed, IInference, INFERENCE, InferenceAuthorization, Settlement},
    models::{DatanetVersion, IModels, Kind, MODELS, ModelConfig},
};
use ol_node::{
    chain::{BlockRoots, Chain, block_header},
    metrics::Metrics,
};
use ol_primitives::{
    Amount, BlockEnv, RecoveredTransaction, TOTAL_SUPPLY_OPEN, decode_raw_transaction,
    recover_parallel,
};
use ol_storage::Store;
use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::{collections::HashMap, sync::Arc, time::Instant};

/// Chain id (as the chain benchmark's).
pub(crate) const CHAIN_ID: u64 = crate::signing::CHAIN_ID;
const RESERVE: Address = address!("0x00000000000000000000000000000000000b0b0b");
const PRODUCER: Address = address!("0x0000000000000000000000000000000000c0ffee");
/// The datanet and model every settlement names.
pub(crate) const DATANET: u64 = 1;
pub(crate) const VERSION: u32 = 1;
pub(crate) const MODEL: u64 = 1;
/// Model price: 0.001 OPEN per 1,000 output tokens, prompts free.
const OUTPUT_PRICE_PER_1K: u64 = 1_000_000_000_000_000;
/// Authorisations never expire within the run.
const EXPIRY: u64 = 1 << 40;

/// A signing key derived from a name (keccak of it).
pub(crate) fn key(family: &str, index: u64) -> PrivateKeySigner {
    let seed = keccak256(format!("ol-bench-inference/{family}/{index}"));
    // A keccak output is a valid secp256k1 secret with overwhelming probability.
    PrivateKeySigner::from_bytes(&seed).expect("keccak output is a valid secret key")
}

/// Everyone who signs.
pub(crate) struct Parties {
    pub(crate) datanet_owner: PrivateKeySigner,
    pub(crate) model_owner: PrivateKeySigner,
    pub(crate) provider: PrivateKeySigner,
    pub(crate) payers: Vec<PrivateKeySigner>,
    pub(crate) contributors: Vec<PrivateKeySigner>,
}

impl Parties {
    pub(crate) fn new(payers: u64, contributors: u64) -> Self {
        Self {
            datanet_owner: key("datanet-owner", 0),
            model_owner: key("model-owner", 0),
            provider: key("provider", 0),
            payers: (0..payers).into_par_iter().map(|i| key("payer", i)).collect(),
            contributors: (0..contributors)
                .into_par_iter()
                .map(|i| key("contributor", i))
                .collect(),
        }
    }

    fn genesis(&self) -> eyre::Result<Genesis> {
        let fixed = [&self.datanet_owner, &self.model_owner, &self.provider];
        let everyone: Vec<&PrivateKeySigner> =
            fixed.into_iter().chain(&self.payers).chain(&self.contributors).collect();
        let each = 1_000u64;
        let mut allocations: Vec<Allocation> = everyone
            .iter()
            .enumerate()
            .map(|(i, k)| Allocation {
                name: format!("party {i}"),
                address: k.address(),
                amount: Amount::from_open(each),
                vesting: None,
            })
            .collect();
        allocations.push(Allocation {
            name: "reserve".into(),
            address: RESERVE,
            amount: Amount::from_open(TOTAL_SUPPLY_OPEN - each * everyone.len() as u64),
            vesting: None,
        });
        let genesis = Genesis {
            chain_id: CHAIN_ID,
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
}

/// Content facts of the corpus documents, as a node's blob store gives them.
#[derive(Default)]
pub(crate) struct Contents(HashMap<B256, ContentFacts>);

impl Contents {
    fn add(&mut self, number: u32, text: &str) -> B256 {
        let hash = B256::from(<[u8; 32]>::from(Sha256::digest(text.as_bytes())));
        // Every document is distinct: its MinHash slots share no value with another's.
        let minhash = std::array::from_fn(|slot| number << 12 | slot as u32);
        let normalised_hash = keccak256(text.as_bytes());
        self.0.insert(hash, ContentFacts { size: text.len() as u64, normalised_hash, minhash });
        hash
    }
}

const _: () = assert!(MINHASH_SLOTS < 1 << 12, "MinHash slots must fit the 12 bits kept for them");

impl ContentSource for Contents {
    fn facts(&self, hash: B256, _options: &ParseOptions) -> Result<ContentFacts, ContentProblem> {
        self.0.get(&hash).cloned().ok_or(ContentProblem::Unavailable(hash))
    }
}

/// One applied block: its phases and gas.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Applied {
    pub(crate) transactions: usize,
    pub(crate) gas_used: u64,
    pub(crate) phases: Phases,
}

/// The store and chain parameters; applies blocks of raw transactions.
pub(crate) struct Ledger {
    store: Store,
    spec: ChainSpec,
    contents: Contents,
    nonces: HashMap<Address, u64>,
    _dir: tempfile::TempDir,
}

impl Ledger {
    fn new(genesis: Genesis, contents: Contents) -> eyre::Result<Self> {
        let dir = tempfile::tempdir()?;
        let store = Store::open(dir.path())?;
        let spec = genesis.chain_spec();
        drop(Chain::open(store.clone(), genesis, Arc::new(Metrics::new()))?);
        Ok(Self { store, spec, contents, nonces: HashMap::new(), _dir: dir })
    }

    /// The next nonce of `who` (counted here, as every transaction is signed here).
    pub(crate) fn take_nonce(&mut self, who: Address) -> u64 {
        let nonce = self.nonces.entry(who).or_default();
        *nonce += 1;
        *nonce - 1
    }

    fn next_env(&self) -> eyre::Result<(BlockEnv, ol_primitives::SealedHeader)> {
        let parent = self.store.head()?;
        let env = BlockEnv {
            number: parent.number() + 1,
            timestamp: parent.header.timestamp + 1,
            beneficiary: PRODUCER,
            base_fee: ol_node::chain::next_base_fee(&self.spec, &parent),
            gas_limit: self.spec.block_gas_limit,
        };
        Ok((env, parent))
    }

    /// The block gas limit.
    pub(crate) fn block_gas_limit(&self) -> u64 {
        self.spec.block_gas_limit
    }

    /// Applies one block of raw transactions, timing each phase as the chain
    /// benchmark does; every transaction must be included and succeed.
    pub(crate) fn apply(&mut self, raw: &[Vec<u8>]) -> eyre::Result<Applied> {
        let (env, parent) = self.next_env()?;
        let mut phases = Phases::default();

        let started = Instant::now();
        let envelopes: Vec<TxEnvelope> =
            raw.par_iter().map(|r| decode_raw_transaction(r)).collect::<Result<_, _>>()?;
        phases.decode = started.elapsed();

        let started = Instant::now();
        let recovered: Vec<RecoveredTransaction> =
            recover_parallel(envelopes).into_iter().collect::<Result<_, _>>()?;
        phases.recover = started.elapsed();

        let started = Instant::now();
        let snapshot = self.store.snapshot()?;
        let outcome = execute_block(
            &self.spec,
            &snapshot,
            &env,
            recovered,
            ExecutionMode::Build,
            &self.contents,
            &ol_ledger::NoContracts,
        )?;
        phases.execute = started.elapsed();
        drop(snapshot);
        if let Some((tx, reason)) = outcome.excluded.first() {
            eyre::bail!(
                "block {}: {} of {} transactions were refused, e.g. {}: {reason}",
                env.number,
                outcome.excluded.len(),
                raw.len(),
                tx.hash
            );
        }
        if let Some(failed) = outcome.receipts.iter().position(|r| !r.success()) {
            eyre::bail!(
                "block {}: transaction {} of {} reverted",
                env.number,
                outcome.included[failed].hash,
                raw.len()
            );
        }

        let started = Instant::now();
        let roots = BlockRoots::of(&outcome);
        phases.roots = started.elapsed();

        let started = Instant::now();
        self.store.commit_block(
            &outcome.changes,
            |state_root| block_header(parent.hash, &env, &outcome, roots, state_root),
            &outcome.included,
            &outcome.receipts,
        )?;
        phases.commit = started.elapsed();
        Ok(Applied { transactions: outcome.included.len(), gas_used: outcome.gas_used, phases })
    }

    /// Runs a settlement call against the head state without applying it
    /// (as the node simulates before it signs); returns the gas limit the
    /// node would give its transaction.
    pub(crate) fn simulate(&self, provider: Address, input: &[u8]) -> eyre::Result<u64> {
        let (block, _) = self.next_env()?;
        let state = self.store.snapshot()?;
        let env = ol_ledger::system::CallEnv {
            spec: &self.spec,
            block: &block,
            caller: provider,
            content: &self.contents,
        };
        let outcome = ol_ledger::system::call(&state, env, INFERENCE, input, block.gas_limit / 2)?;
        if !outcome.success {
            eyre::bail!(
                "the settlement would be refused: {}",
                outcome.revert_reason.unwrap_or_default()
            );
        }
        let intrinsic = ol_ledger::fees::intrinsic_gas_of(input, None);
        // The node's own margin (crates/node/src/serving.rs).
        Ok((intrinsic + outcome.gas_used) * 5 / 4 + 50_000)
    }

    /// Reward balance of `who` in the inference contract.
    pub(crate) fn rewards_of(&self, who: Address) -> eyre::Result<U256> {
        let state = self.store.snapshot()?;
        Ok(inference::InferenceReader::new(&state).rewards_of(who)?)
    }
}

/// Signs a call to `to` as an EIP-1559 transaction; returns its EIP-2718 bytes.
pub(crate) fn sign_call(
    signer: &PrivateKeySigner,
    nonce: u64,
    to: Address,
    input: Vec<u8>,
    gas_limit: u64,
) -> eyre::Result<Vec<u8>> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000_000,
        to: TxKind::Call(to),
        value: U256::ZERO,
        access_list: Default::default(),
        input: Bytes::from(input),
    };
    let signature = signer.sign_hash_sync(&tx.signature_hash())?;
    Ok(TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

/// The chain after setup, and who is who on it.
pub(crate) struct Setup {
    pub(crate) ledger: Ledger,
    pub(crate) parties: Parties,
    /// Contribution ids are 1..=documents, document `i` is id `i + 1`,
    /// contributed by `contributors[i % contributors.len()]`.
    pub(crate) documents: usize,
    pub(crate) index_hash: B256,
}

/// Creates the datanet with `documents` as contributions, publishes version
/// 1, records `index_hash` for it, registers the model (kind `Full`,
/// weights `weights_hash`) with the provider.
pub(crate) fn set_up(
    parties: Parties,
    documents: &[String],
    index_hash: B256,
    weights_hash: B256,
) -> eyre::Result<Setup> {
    let mut contents = Contents::default();
    let hashes: Vec<B256> =
        documents.iter().enumerate().map(|(i, text)| contents.add(i as u32, text)).collect();
    let mut ledger = Ledger::new(parties.genesis()?, contents)?;
    let gas = 5_000_000;
    let owner = &parties.datanet_owner;
    let config = DatanetConfig {
        name: "harbour".into(),
        summary: "benchmark corpus".into(),
        description: String::new(),
        tags: vec![],
        licence: "CC-BY-4.0".into(),
        customTermsHash: B256::ZERO,
        policy: Policy::Open,
        maxSubmissionBytes: 0,
        formats: vec![Format::Text],
        jsonlField: String::new(),
        csvColumn: String::new(),
    };
    let nonce = ledger.take_nonce(owner.address());
    let create = IDatanets::createDatanetCall { config }.abi_encode();
    ledger.apply(&[sign_call(owner, nonce, DATANETS, create, gas)?])?;

    // Contributions, a block per round over the contributors.
    let contributors = parties.contributors.len();
    for chunk in (0..documents.len()).collect::<Vec<_>>().chunks(contributors) {
        let calls: Vec<(usize, u64)> = chunk
            .iter()
            .map(|&i| {
                let who = &parties.contributors[i % contributors];
                (i, ledger.take_nonce(who.address()))
            })
            .collect();
        let raw = calls
            .par_iter()
            .map(|&(i, nonce)| {
                let call = IDatanets::contributeCall {
                    datanetId: DATANET,
                    contentHash: hashes[i],
                    size: documents[i].len() as u64,
                    format: Format::Text,
                    licence: String::new(),
                };
                sign_call(
                    &parties.contributors[i % contributors],
                    nonce,
                    DATANETS,
                    call.abi_encode(),
                    gas,
                )
            })
            .collect::<eyre::Result<Vec<_>>>()?;
        ledger.apply(&raw)?;
    }

    let nonce = ledger.take_nonce(owner.address());
    let publish = IDatanets::publishVersionCall { datanetId: DATANET }.abi_encode();
    // Publishing reads every contribution: far more gas than one call.
    ledger.apply(&[sign_call(owner, nonce, DATANETS, publish, 500_000_000)?])?;
    let nonce = ledger.take_nonce(owner.address());
    let record = IDatanets::recordIndexCall {
        datanetId: DATANET,
        version: VERSION,
        indexHash: index_hash,
        tokenizer: "byte".into(),
    }
    .abi_encode();
    ledger.apply(&[sign_call(owner, nonce, DATANETS, record, gas)?])?;

    let model = ModelConfig {
        name: "harbour-lm".into(),
        baseModel: B256::ZERO,
        trainedOn: vec![DatanetVersion { datanetId: DATANET, version: VERSION }],
        trainingConfigHash: B256::repeat_byte(0xc0),
        weightsHash: weights_hash,
        kind: Kind::Full,
        inputPricePer1k: U256::ZERO,
        outputPricePer1k: U256::from(OUTPUT_PRICE_PER_1K),
        providers: vec![parties.provider.address()],
    };
    let model_owner = &parties.model_owner;
    let nonce = ledger.take_nonce(model_owner.address());
    let register = IModels::registerModelCall { config: model }.abi_encode();
    ledger.apply(&[sign_call(model_owner, nonce, MODELS, register, gas)?])?;
    Ok(Setup { ledger, parties, documents: documents.len(), index_hash })
}

/// What a settlement is about.
pub(crate) struct Served<'a> {
    pub(crate) prompt: &'a [u8],
    pub(crate) output: &'a [u8],
    pub(crate) input_tokens: u32,
    pub(crate) output_tokens: u32,
    pub(crate) attribution: Vec<Attributed>,
}

/// The settlement of `served`, paid by `payer` under authorisation `nonce`,
/// with the payer's EIP-712 signature: the `settle` call's input.
pub(crate) fn settle_input(
    setup_index_hash: B256,
    payer: &PrivateKeySigner,
    provider: Address,
    nonce: u64,
    served: Served<'_>,
) -> eyre::Result<Vec<u8>> {
    let sha = |bytes: &[u8]| B256::from(<[u8; 32]>::from(Sha256::digest(bytes)));
    let fee = inference::fee_for(
        U256::ZERO,
        U256::from(OUTPUT_PRICE_PER_1K),
        served.input_tokens,
        served.output_tokens,
        inference::Params::default().platform_fee,
    )
    .ok_or_else(|| eyre::eyre!("the fee overflows"))?;
    let max_fee = U256::from(10u64).pow(U256::from(18));
    let settlement = Settlement {
        modelId: MODEL,
        payer: payer.address(),
        promptHash: sha(served.prompt),
        outputHash: sha(served.output),
        inputTokens: served.input_tokens,
        outputTokens: served.output_tokens,
        fee,
        datanetId: DATANET,
        version: VERSION,
        indexHash: setup_index_hash,
        attribution: served.attribution,
        maxFee: max_fee,
        nonce: U256::from(nonce),
        expiry: EXPIRY,
    };
    let authorization = InferenceAuthorization {
        modelId: MODEL,
        provider,
        maxFee: max_fee,
        nonce: U256::from(nonce),
        expiry: EXPIRY,
    };
    let hash = inference::authorization_signing_hash(CHAIN_ID, &authorization);
    let signature = payer.sign_hash_sync(&hash)?.as_bytes().to_vec();
    Ok(IInference::settleCall { settlement, signature: signature.into() }.abi_encode())
}
