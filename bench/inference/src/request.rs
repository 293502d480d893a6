//! (1) One served request, part by part: generation of 256 output tokens,
//! attribution of the output against the datanet version's index, and the
//! settlement (build it and sign the payer's EIP-712 authorisation, simulate
//! it as the node does, sign the provider's transaction) and its share of
//! applying the block that holds it (`execute_block` + `Store::commit_block`
//! of one block holding every request's settlement, divided by their
//! number: a node seals all pending settlements together, so the block's
//! fixed cost — state root and redb commit — is shared, as it is for
//! transfers in the chain benchmark).

use crate::ledger::{self, Served, Setup};
use ol_attribution::{
    index::Index,
    span::{AttributionParams, attribute},
    tokenizer::Tokenizer,
};
use ol_ledger::inference::{Attributed, INFERENCE, MAX_ATTRIBUTED};
use ol_models::{GenerationParams, Runtime};
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};

/// Output tokens of every request.
pub(crate) const OUTPUT_TOKENS: usize = 256;
/// Authorisation nonces of (1) start here, apart from (2)'s.
const NONCE_BASE: u64 = 1 << 32;

/// Wall time of each part of one request.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RequestTimes {
    pub(crate) generate: Duration,
    pub(crate) attribute: Duration,
    /// Settlement built and the authorisation signed.
    pub(crate) authorise: Duration,
    pub(crate) simulate: Duration,
    pub(crate) sign_transaction: Duration,
    /// Its share of decode + recover + execute + roots + commit of the one
    /// block holding all the requests' settlements.
    pub(crate) apply: Duration,
    pub(crate) output_tokens: usize,
    pub(crate) attributed: usize,
}

impl RequestTimes {
    pub(crate) fn settle(&self) -> Duration {
        self.authorise + self.simulate + self.sign_transaction + self.apply
    }
}

/// The attribution vector of `output` (ascending contribution ids).
pub(crate) fn attribution_of(index: &Index, output: &str) -> Vec<Attributed> {
    let tokens = Tokenizer::byte().encode(output);
    let result = attribute(index, &tokens, &AttributionParams::default(), &BTreeSet::new());
    let mut vector: Vec<Attributed> = result
        .shares
        .iter()
        .map(|share| Attributed { contributionId: share.contribution, bps: share.bps })
        .collect();
    vector.sort_by_key(|entry| entry.contributionId);
    vector
}

/// Serves `requests` requests with the base model, each prompted with the
/// start of a corpus document.
pub(crate) fn run(
    setup: &mut Setup,
    runtime: &Runtime,
    index: &Index,
    documents: &[String],
    requests: usize,
) -> eyre::Result<Vec<RequestTimes>> {
    let provider = setup.parties.provider.address();
    let mut all = Vec::with_capacity(requests);
    let mut raws = Vec::with_capacity(requests);
    for n in 0..requests {
        let document = &documents[(n * 97) % documents.len()];
        let prompt: String = document.chars().take(32).collect();
        let prompt_tokens = ol_models::tokenizer::encode(&prompt);
        let params = GenerationParams {
            max_tokens: OUTPUT_TOKENS,
            temperature: 0.8,
            top_p: 0.95,
            seed: n as u64,
            stop: Vec::new(),
        };
        let mut times = RequestTimes::default();

        let started = Instant::now();
        let generation = runtime.generate(None, &prompt_tokens, &params, |_| {})?;
        times.generate = started.elapsed();
        let output = generation.text();
        times.output_tokens = generation.tokens.len();

        let started = Instant::now();
        let attribution = attribution_of(index, &output);
        times.attribute = started.elapsed();
        times.attributed = attribution.len();
        eyre::ensure!(
            attribution.len() <= MAX_ATTRIBUTED,
            "request {n}: {} contributions attributed, more than a settlement takes ({MAX_ATTRIBUTED})",
            attribution.len()
        );

        let started = Instant::now();
        let payer = &setup.parties.payers[n % setup.parties.payers.len()];
        let served = Served {
            prompt: prompt.as_bytes(),
            output: output.as_bytes(),
            input_tokens: prompt_tokens.len() as u32,
            output_tokens: generation.tokens.len() as u32,
            attribution,
        };
        let input =
            ledger::settle_input(setup.index_hash, payer, provider, NONCE_BASE + n as u64, served)?;
        times.authorise = started.elapsed();

        let started = Instant::now();
        let gas_limit = setup.ledger.simulate(provider, &input)?;
        times.simulate = started.elapsed();

        let started = Instant::now();
        let nonce = setup.ledger.take_nonce(provider);
        let raw = ledger::sign_call(&setup.parties.provider, nonce, INFERENCE, input, gas_limit)?;
        times.sign_transaction = started.elapsed();

        raws.push(raw);
        all.push(times);
    }
    let started = Instant::now();
    setup.ledger.apply(&raws)?;
    let share = started.elapsed() / requests.max(1) as u32;
    for times in &mut all {
        times.apply = share;
    }
    Ok(all)
}
