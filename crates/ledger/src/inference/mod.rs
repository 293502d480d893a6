//! Inference payment and settlement by Proof of Attribution.
//!
//! The rules of the `IInference` system contract (`contracts/IInference.sol`)
//! at [`INFERENCE`]. A provider allowed to serve a model settles each
//! inference it served: the model, hashes of prompt and output, token
//! counts, the fee, the datanet version whose attribution index it used
//! (its recorded hash) and the attribution vector (contribution ids with
//! basis points). The client pays either under a signed EIP-712
//! [`InferenceAuthorization`] (model, provider, maximum fee, nonce, expiry;
//! see [`authorization_signing_hash`]) or from a deposit it made for that
//! provider. Either way the fee can never exceed the authorised maximum and
//! a (payer, nonce) pair settles once.
//!
//! The fee is `input × inputPricePer1k / 1000 + output × outputPricePer1k /
//! 1000` (rounded down) plus the platform fee; [`split`] divides it (the
//! platform fee and all rounding dust to the treasury; the rest 20 % owner,
//! 10 % provider, 20 % stakers, 50 % contributors by default, governable in
//! [`Params`]). Shares are credited to reward balances held by this contract
//! — O(k) storage writes for k attributed contributors, aggregated per
//! contributor — and `claim` moves a balance to the spendable OPEN. The
//! stakers' share moves to the staking pool at once and is distributed pro
//! rata to bonded stake ([`crate::staking::distribute`]; still logged as a
//! `Credited` with role `Stakers`). With nothing attributed, the
//! contributors' share goes to the datanet's owner. A contributor whose
//! rewards in the datanet are cut by its reputation earns nothing: its
//! share goes to the other attributed contributors (to the datanet's owner
//! when all are cut).
//!
//! Storage:
//! - `counts` → inference count
//! - `inference[id]` at offsets 0 packed (model, settled-at block, input
//!   tokens, output tokens), 1 provider, 2 payer, 3 fee, 4 prompt hash,
//!   5 output hash, 6 packed (datanet, version), 7 index hash, 8
//!   attribution hash, 9 settled-at block time, 10 contributors' part
//!   credited (the last two for [`challenge`])
//! - `rewards[account]`; `deposit[payer, provider]`; `nonce[payer, nonce]`
//!   → 1 once used
//! - `earned.datanet[account, datanet]`, `earned.model[account, model]`
//! - `sources[account]` → packed (datanets, models) counts, with the lists
//!   `sources.datanet[account, n]` and `sources.model[account, n]`
//! - `params` + 0 set flag, + 1 platform fee, + 2 packed shares

pub mod challenge;
pub mod split;

use crate::{
    datanets::DatanetsReader,
    models::ModelsReader,
    revert,
    state::StateView,
    system::{
        CallError, Frame, gas, move_balance,
        slots::{KeyPart, field, pack, slot, unpack},
    },
    vesting,
};
use IInference::IInferenceCalls as Call;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{Eip712Domain, SolCall, SolEvent, SolStruct, SolValue};
pub use ol_primitives::addresses::INFERENCE;
use ol_primitives::addresses::{STAKING, TREASURY};
pub use split::{BPS_WHOLE, Shares, Split};

alloy_sol_types::sol!(
    #[sol(all_derives)]
    "../../contracts/IInference.sol"
);

pub use IInference::{Attributed, Inference, InferenceAuthorization, Role, Settlement};

type Result<T> = std::result::Result<T, CallError>;

/// Most attributed contributions in one settlement.
pub const MAX_ATTRIBUTED: usize = 256;
/// Gas of recovering the signer of an authorisation (as `ecrecover`).
pub const RECOVER_GAS: u64 = 3_000;

/// The EIP-712 domain name of authorisations.
pub const DOMAIN_NAME: &str = "OpenLedger Inference";
/// The EIP-712 domain version of authorisations.
pub const DOMAIN_VERSION: &str = "1";

/// Governable parameters of settlement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Params {
    /// Flat fee per inference, to the treasury (wei).
    pub platform_fee: U256,
    /// How the rest of a fee is shared.
    pub shares: Shares,
}

impl Default for Params {
    /// 0.001 OPEN platform fee; 20 % / 10 % / 20 % / 50 %.
    fn default() -> Self {
        Self { platform_fee: U256::from(10u64).pow(U256::from(15)), shares: Shares::default() }
    }
}

/// The EIP-712 domain of authorisations on chain `chain_id`.
pub fn domain(chain_id: u64) -> Eip712Domain {
    Eip712Domain::new(
        Some(DOMAIN_NAME.into()),
        Some(DOMAIN_VERSION.into()),
        Some(U256::from(chain_id)),
        Some(INFERENCE),
        None,
    )
}

/// The hash a client signs (EIP-712, as `eth_signTypedData_v4`) to
/// authorise `authorization` on chain `chain_id`.
pub fn authorization_signing_hash(chain_id: u64, authorization: &InferenceAuthorization) -> B256 {
    authorization.eip712_signing_hash(&domain(chain_id))
}

/// The fee of an inference: token prices (per 1,000, rounded down) plus the
/// platform fee.
pub fn fee_for(
    input_price_per_1k: U256,
    output_price_per_1k: U256,
    input_tokens: u32,
    output_tokens: u32,
    platform_fee: U256,
) -> Option<U256> {
    let tokens = input_price_per_1k
        .checked_mul(U256::from(input_tokens))?
        .checked_add(output_price_per_1k.checked_mul(U256::from(output_tokens))?)?;
    (tokens / U256::from(1_000u64)).checked_add(platform_fee)
}

fn counts_slot() -> B256 {
    slot("counts", &[])
}
fn inference_slot(id: u64) -> B256 {
    slot("inference", &[KeyPart::U64(id)])
}
fn rewards_slot(account: &Address) -> B256 {
    slot("rewards", &[KeyPart::Address(account)])
}
fn deposit_slot(payer: &Address, provider: &Address) -> B256 {
    slot("deposit", &[KeyPart::Address(payer), KeyPart::Address(provider)])
}
fn nonce_slot(payer: &Address, nonce: U256) -> B256 {
    slot("nonce", &[KeyPart::Address(payer), KeyPart::Word(&B256::from(nonce))])
}
fn earned_datanet_slot(account: &Address, datanet: u64) -> B256 {
    slot("earned.datanet", &[KeyPart::Address(account), KeyPart::U64(datanet)])
}
fn earned_model_slot(account: &Address, model: u64) -> B256 {
    slot("earned.model", &[KeyPart::Address(account), KeyPart::U64(model)])
}
fn sources_slot(account: &Address) -> B256 {
    slot("sources", &[KeyPart::Address(account)])
}
fn source_datanet_slot(account: &Address, n: u64) -> B256 {
    slot("sources.datanet", &[KeyPart::Address(account), KeyPart::U64(n)])
}
fn source_model_slot(account: &Address, n: u64) -> B256 {
    slot("sources.model", &[KeyPart::Address(account), KeyPart::U64(n)])
}
fn params_slot() -> B256 {
    slot("params", &[])
}

fn params<S: StateView>(frame: &mut Frame<'_, S>) -> Result<Params> {
    let base = params_slot();
    if frame.load(base)?.is_zero() {
        return Ok(Params::default());
    }
    let platform_fee = frame.load(field(base, 1))?;
    let [owner, provider, stakers, contributors] = unpack(frame.load(field(base, 2))?);
    Ok(Params {
        platform_fee,
        shares: Shares {
            owner: owner as u16,
            provider: provider as u16,
            stakers: stakers as u16,
            contributors: contributors as u16,
        },
    })
}

/// Sets the settlement parameters (for governance); refuses shares that do
/// not make a whole.
pub fn set_params<S: StateView>(frame: &mut Frame<'_, S>, new: Params) -> Result<()> {
    if !new.shares.is_whole() {
        revert!(
            "fee shares must sum to 10000 bps; owner {} + provider {} + stakers {} + contributors {}",
            new.shares.owner,
            new.shares.provider,
            new.shares.stakers,
            new.shares.contributors
        );
    }
    let base = params_slot();
    frame.store(base, U256::from(1))?;
    frame.store(field(base, 1), new.platform_fee)?;
    let s = new.shares;
    frame.store(
        field(base, 2),
        pack([
            u64::from(s.owner),
            u64::from(s.provider),
            u64::from(s.stakers),
            u64::from(s.contributors),
        ]),
    )
}

fn inference<S: StateView>(frame: &mut Frame<'_, S>, id: u64) -> Result<Option<Inference>> {
    let base = inference_slot(id);
    let [model, settled_at, input, output] = unpack(frame.load(base)?);
    if model == 0 {
        return Ok(None);
    }
    let [datanet, version, ..] = unpack(frame.load(field(base, 6))?);
    Ok(Some(Inference {
        id,
        modelId: model,
        provider: frame.load_address(field(base, 1))?,
        payer: frame.load_address(field(base, 2))?,
        fee: frame.load(field(base, 3))?,
        promptHash: frame.load_word(field(base, 4))?,
        outputHash: frame.load_word(field(base, 5))?,
        inputTokens: input as u32,
        outputTokens: output as u32,
        datanetId: datanet,
        version: version as u32,
        indexHash: frame.load_word(field(base, 7))?,
        attributionHash: frame.load_word(field(base, 8))?,
        settledAtBlock: settled_at,
    }))
}

fn sources<S: StateView>(
    frame: &mut Frame<'_, S>,
    account: &Address,
) -> Result<(Vec<u64>, Vec<u64>)> {
    let [datanets, models, ..] = unpack(frame.load(sources_slot(account))?);
    let datanet_ids = (1..=datanets)
        .map(|n| frame.load_u64(source_datanet_slot(account, n)))
        .collect::<Result<_>>()?;
    let model_ids = (1..=models)
        .map(|n| frame.load_u64(source_model_slot(account, n)))
        .collect::<Result<_>>()?;
    Ok((datanet_ids, model_ids))
}

/// Runs one ABI-encoded call against the inference contract.
pub fn call<S: StateView>(frame: &mut Frame<'_, S>, input: &[u8]) -> Result<Bytes> {
    let call: Call = crate::system::decode_call("IInference", input)?;
    let output = match call {
        Call::settle(c) => {
            IInference::settleCall::abi_encode_returns(&settle(frame, &c.settlement, &c.signature)?)
        }
        Call::deposit(c) => {
            deposit(frame, c.provider, c.amount)?;
            Vec::new()
        }
        Call::withdrawDeposit(c) => {
            withdraw_deposit(frame, c.provider, c.amount)?;
            Vec::new()
        }
        Call::claim(_) => IInference::claimCall::abi_encode_returns(&claim(frame)?),
        Call::feeFor(c) => {
            let Some(model) = ModelsReader::new(&frame.state).model(c.modelId)? else {
                revert!("model {} does not exist", c.modelId)
            };
            let platform = params(frame)?.platform_fee;
            match fee_for(
                model.config.inputPricePer1k,
                model.config.outputPricePer1k,
                c.inputTokens,
                c.outputTokens,
                platform,
            ) {
                Some(fee) => fee.abi_encode(),
                None => revert!("the fee of model {} overflows", c.modelId),
            }
        }
        Call::rewardsOf(c) => frame.load(rewards_slot(&c.account))?.abi_encode(),
        Call::depositOf(c) => frame.load(deposit_slot(&c.payer, &c.provider))?.abi_encode(),
        Call::nonceUsed(c) => (!frame.load(nonce_slot(&c.payer, c.nonce))?.is_zero()).abi_encode(),
        Call::inferenceCount(_) => frame.load_u64(counts_slot())?.abi_encode(),
        Call::getInference(c) => match inference(frame, c.inferenceId)? {
            Some(record) => IInference::getInferenceCall::abi_encode_returns(&record),
            None => revert!("inference {} does not exist", c.inferenceId),
        },
        Call::earnedInDatanet(c) => {
            frame.load(earned_datanet_slot(&c.account, c.datanetId))?.abi_encode()
        }
        Call::earnedFromModel(c) => {
            frame.load(earned_model_slot(&c.account, c.modelId))?.abi_encode()
        }
        Call::earningSources(c) => {
            let (datanet_ids, model_ids) = sources(frame, &c.account)?;
            IInference::earningSourcesCall::abi_encode_returns(&IInference::earningSourcesReturn {
                datanetIds: datanet_ids,
                modelIds: model_ids,
            })
        }
        Call::challenge(c) => IInference::challengeCall::abi_encode_returns(
            &(challenge::challenge(frame, c.inferenceId, &c.output, &c.settled)?
                == challenge::Outcome::Upheld),
        ),
        Call::getChallenge(c) => {
            let judged = challenge::judged(frame, c.inferenceId)?;
            IInference::getChallengeCall::abi_encode_returns(&match judged {
                Some(j) => IInference::Challenge {
                    outcome: j.outcome as u8,
                    challenger: j.challenger,
                    judgedAtBlock: j.block,
                    slashed: j.slashed,
                },
                None => IInference::Challenge {
                    outcome: 0,
                    challenger: Address::ZERO,
                    judgedAtBlock: 0,
                    slashed: U256::ZERO,
                },
            })
        }
        Call::challengeParams(_) => {
            let p = challenge::params(frame)?;
            IInference::challengeParamsCall::abi_encode_returns(&IInference::ChallengeParams {
                windowSeconds: p.window_seconds,
                bond: p.bond,
                providerSlash: p.provider_slash,
                challengerBps: p.challenger_bps,
            })
        }
        Call::setChallengeParams(c) => {
            crate::system::only_governance(frame, "setChallengeParams")?;
            let p = c.params;
            challenge::set_params(
                frame,
                challenge::ChallengeParams {
                    window_seconds: p.windowSeconds,
                    bond: p.bond,
                    provider_slash: p.providerSlash,
                    challenger_bps: p.challengerBps,
                },
            )?;
            Vec::new()
        }
        Call::params(_) => {
            let p = params(frame)?;
            IInference::paramsCall::abi_encode_returns(&IInference::Params {
                platformFee: p.platform_fee,
                ownerBps: p.shares.owner,
                providerBps: p.shares.provider,
                stakersBps: p.shares.stakers,
                contributorsBps: p.shares.contributors,
            })
        }
        Call::setParams(c) => {
            crate::system::only_governance(frame, "IInference.setParams")?;
            let p = &c.params;
            let shares = Shares {
                owner: p.ownerBps,
                provider: p.providerBps,
                stakers: p.stakersBps,
                contributors: p.contributorsBps,
            };
            set_params(frame, Params { platform_fee: p.platformFee, shares })?;
            emit(frame, IInference::ParamsChanged { params: c.params })?;
            Vec::new()
        }
    };
    Ok(output.into())
}

fn emit<S: StateView, E: SolEvent>(frame: &mut Frame<'_, S>, event: E) -> Result<()> {
    frame.emit(event.encode_log_data())
}

fn spendable<S: StateView>(frame: &mut Frame<'_, S>, account: &Address) -> Result<U256> {
    Ok(vesting::balance_at(&frame.state, account, frame.env.block.timestamp)?.spendable)
}

fn deposit<S: StateView>(frame: &mut Frame<'_, S>, provider: Address, amount: U256) -> Result<()> {
    let payer = frame.env.caller;
    if provider == Address::ZERO {
        revert!("a deposit needs a provider");
    }
    if amount.is_zero() {
        revert!("a deposit must be more than zero");
    }
    let available = spendable(frame, &payer)?;
    if available < amount {
        revert!("{payer} can spend {available} wei; a deposit of {amount} wei was asked");
    }
    move_balance(frame, payer, INFERENCE, amount)?;
    let slot = deposit_slot(&payer, &provider);
    let held = frame.load(slot)?;
    frame.store(slot, held + amount)?;
    emit(frame, IInference::Deposited { payer, provider, amount })
}

fn withdraw_deposit<S: StateView>(
    frame: &mut Frame<'_, S>,
    provider: Address,
    amount: U256,
) -> Result<()> {
    let payer = frame.env.caller;
    let slot = deposit_slot(&payer, &provider);
    let held = frame.load(slot)?;
    if amount.is_zero() || amount > held {
        revert!(
            "the deposit of {payer} for {provider} is {held} wei; cannot withdraw {amount} wei"
        );
    }
    frame.store(slot, held - amount)?;
    move_balance(frame, INFERENCE, payer, amount)?;
    emit(frame, IInference::DepositWithdrawn { payer, provider, amount })
}

fn claim<S: StateView>(frame: &mut Frame<'_, S>) -> Result<U256> {
    let account = frame.env.caller;
    let slot = rewards_slot(&account);
    let amount = frame.load(slot)?;
    if amount.is_zero() {
        revert!("{account} has no rewards to claim");
    }
    frame.store(slot, U256::ZERO)?;
    move_balance(frame, INFERENCE, account, amount)?;
    emit(frame, IInference::Claimed { account, amount })?;
    Ok(amount)
}

/// Checks the attribution vector against the version it claims and
/// returns (contributor, bps) per entry of the contributors that earn: the
/// entries of a contributor whose penalty score in the datanet is at or
/// above the threshold (reputation, [`crate::datanets::reputation`]) are
/// checked like any other, then left out, so [`split`] gives their share to
/// the others (or, when all are cut, to the datanet's owner).
fn attributed_contributors<S: StateView>(
    frame: &mut Frame<'_, S>,
    settlement: &Settlement,
    cursor: u64,
) -> Result<Vec<(Address, u16)>> {
    let attribution = &settlement.attribution;
    if attribution.len() > MAX_ATTRIBUTED {
        revert!("{} attributed contributions; at most {MAX_ATTRIBUTED} allowed", attribution.len());
    }
    if attribution.is_empty() {
        return Ok(Vec::new());
    }
    let mut total: u32 = 0;
    let mut previous = 0u64;
    let mut weights = Vec::with_capacity(attribution.len());
    for (i, entry) in attribution.iter().enumerate() {
        if entry.bps == 0 {
            revert!("attribution entry {i} (contribution {}) has zero bps", entry.contributionId);
        }
        if entry.contributionId <= previous {
            revert!(
                "attribution must list contributions in ascending order without repeats; \
                 entry {i} names {} after {previous}",
                entry.contributionId
            );
        }
        previous = entry.contributionId;
        total += u32::from(entry.bps);
        frame.gas.charge(3 * gas::LOAD)?;
        let found = DatanetsReader::new(&frame.state).attributable(
            entry.contributionId,
            settlement.datanetId,
            cursor,
        )?;
        match found {
            Ok(contributor) => weights.push((contributor, entry.bps)),
            Err(reason) => revert!(
                "attribution entry {i}: {reason} (datanet {} version {})",
                settlement.datanetId,
                settlement.version
            ),
        }
    }
    if total != u32::from(BPS_WHOLE) {
        revert!("attribution weights sum to {total} bps; they must sum to exactly 10000");
    }
    leave_out_cut(frame, settlement.datanetId, &mut weights)?;
    Ok(weights)
}

/// Leaves out of `weights` the contributors whose penalty score in
/// `datanet` has reached the threshold: their rewards there are cut, and
/// the others share their weight. Settlement and challenges both use it.
fn leave_out_cut<S: StateView>(
    frame: &mut Frame<'_, S>,
    datanet: u64,
    weights: &mut Vec<(Address, u16)>,
) -> Result<()> {
    frame.gas.charge(2 * gas::LOAD)?;
    let threshold = DatanetsReader::new(&frame.state).penalty_threshold()?;
    let mut cut = std::collections::BTreeMap::new();
    for (contributor, _) in weights.iter() {
        if !cut.contains_key(contributor) {
            frame.gas.charge(gas::LOAD)?;
            let score = DatanetsReader::new(&frame.state).penalty_score(datanet, *contributor)?;
            cut.insert(*contributor, score >= threshold);
        }
    }
    weights.retain(|(contributor, _)| !cut[contributor]);
    Ok(())
}

/// Who pays: checks the authorisation (signed or deposit), marks the nonce
/// used and moves the fee into this contract.
fn charge<S: StateView>(
    frame: &mut Frame<'_, S>,
    settlement: &Settlement,
    signature: &[u8],
    fee: U256,
) -> Result<()> {
    let provider = frame.env.caller;
    let payer = settlement.payer;
    if settlement.expiry < frame.env.block.timestamp {
        revert!(
            "the authorisation expired at {} (block time is {})",
            settlement.expiry,
            frame.env.block.timestamp
        );
    }
    if fee > settlement.maxFee {
        revert!(
            "the fee of {fee} wei is above the authorised maximum of {} wei",
            settlement.maxFee
        );
    }
    let nonce = nonce_slot(&payer, settlement.nonce);
    if !frame.load(nonce)?.is_zero() {
        revert!("authorisation nonce {} of {payer} has already settled", settlement.nonce);
    }
    frame.store(nonce, U256::from(1))?;
    if signature.is_empty() {
        let slot = deposit_slot(&payer, &provider);
        let held = frame.load(slot)?;
        if held < fee {
            revert!("the deposit of {payer} for {provider} is {held} wei; the fee is {fee} wei");
        }
        return frame.store(slot, held - fee);
    }
    frame.gas.charge(RECOVER_GAS)?;
    let authorization = InferenceAuthorization {
        modelId: settlement.modelId,
        provider,
        maxFee: settlement.maxFee,
        nonce: settlement.nonce,
        expiry: settlement.expiry,
    };
    let hash = authorization_signing_hash(frame.env.spec.chain_id, &authorization);
    let signer = match ol_primitives::recover_signer(signature, hash) {
        Ok(signer) => signer,
        Err(error) => revert!("the payment authorisation signature is invalid: {error}"),
    };
    if signer != payer {
        revert!(
            "the authorisation was signed by {signer}, not by the payer {payer} \
             (or for another model, provider, maximum fee, nonce or expiry)"
        );
    }
    let available = spendable(frame, &payer)?;
    if available < fee {
        revert!("{payer} can spend {available} wei; the fee is {fee} wei");
    }
    move_balance(frame, payer, INFERENCE, fee)
}

fn credit<S: StateView>(
    frame: &mut Frame<'_, S>,
    inference_id: u64,
    model: u64,
    account: Address,
    role: Role,
    datanet: Option<u64>,
    amount: U256,
) -> Result<()> {
    if amount.is_zero() {
        return Ok(());
    }
    frame.add_to(rewards_slot(&account), amount)?;
    if frame.add_to(earned_model_slot(&account, model), amount)? == amount {
        add_source(frame, &account, Source::Model(model))?;
    }
    if let Some(datanet) = datanet
        && frame.add_to(earned_datanet_slot(&account, datanet), amount)? == amount
    {
        add_source(frame, &account, Source::Datanet(datanet))?;
    }
    emit(
        frame,
        IInference::Credited {
            inferenceId: inference_id,
            account,
            role,
            datanetId: datanet.unwrap_or_default(),
            amount,
        },
    )
}

enum Source {
    Datanet(u64),
    Model(u64),
}

fn add_source<S: StateView>(
    frame: &mut Frame<'_, S>,
    account: &Address,
    source: Source,
) -> Result<()> {
    let base = sources_slot(account);
    let [mut datanets, mut models, ..] = unpack(frame.load(base)?);
    match source {
        Source::Datanet(id) => {
            datanets += 1;
            frame.store(source_datanet_slot(account, datanets), U256::from(id))?;
        }
        Source::Model(id) => {
            models += 1;
            frame.store(source_model_slot(account, models), U256::from(id))?;
        }
    }
    frame.store(base, pack([datanets, models, 0, 0]))
}

fn settle<S: StateView>(
    frame: &mut Frame<'_, S>,
    settlement: &Settlement,
    signature: &[u8],
) -> Result<u64> {
    let provider = frame.env.caller;
    let model_id = settlement.modelId;
    frame.gas.charge(4 * gas::LOAD)?;
    let mut models = ModelsReader::new(&frame.state);
    let Some(model) = models.model(model_id)? else { revert!("model {model_id} does not exist") };
    if model.retired {
        revert!("model {model_id} is retired and can no longer be settled");
    }
    if !models.is_provider(model_id, provider)? {
        revert!("{provider} is not an allowed provider of model {model_id}");
    }
    let (datanet, version) = (settlement.datanetId, settlement.version);
    if !model.config.trainedOn.iter().any(|t| t.datanetId == datanet && t.version == version) {
        revert!("model {model_id} was not trained on datanet {datanet} version {version}");
    }
    frame.gas.charge(2 * gas::LOAD)?;
    let Some((cursor, recorded)) =
        DatanetsReader::new(&frame.state).version_for_attribution(datanet, version)?
    else {
        revert!("datanet {datanet} has no version {version}")
    };
    if recorded == B256::ZERO {
        revert!("datanet {datanet} version {version} has no recorded attribution index");
    }
    if recorded != settlement.indexHash {
        revert!(
            "index hash {} differs from the one recorded for datanet {datanet} version {version} ({recorded})",
            settlement.indexHash
        );
    }
    let params = params(frame)?;
    let Some(fee) = fee_for(
        model.config.inputPricePer1k,
        model.config.outputPricePer1k,
        settlement.inputTokens,
        settlement.outputTokens,
        params.platform_fee,
    ) else {
        revert!("the fee of model {model_id} overflows")
    };
    if settlement.fee != fee {
        revert!(
            "the settlement states a fee of {} wei; {} input and {} output tokens of model \
             {model_id} cost {fee} wei",
            settlement.fee,
            settlement.inputTokens,
            settlement.outputTokens
        );
    }
    let weights = attributed_contributors(frame, settlement, cursor)?;
    charge(frame, settlement, signature, fee)?;

    let id = frame.load_u64(counts_slot())? + 1;
    frame.store(counts_slot(), U256::from(id))?;
    let parts = split::split(fee, params.platform_fee, params.shares, &weights);
    move_balance(frame, INFERENCE, TREASURY, parts.treasury)?;
    credit(frame, id, model_id, model.owner, Role::Owner, None, parts.owner)?;
    credit(frame, id, model_id, provider, Role::Provider, None, parts.provider)?;
    crate::staking::distribute(frame, INFERENCE, parts.stakers)?;
    if !parts.stakers.is_zero() {
        let credited = IInference::Credited {
            inferenceId: id,
            account: STAKING,
            role: Role::Stakers,
            datanetId: 0,
            amount: parts.stakers,
        };
        emit(frame, credited)?;
    }
    for (contributor, amount) in &parts.contributors {
        credit(frame, id, model_id, *contributor, Role::Contributor, Some(datanet), *amount)?;
    }
    if !parts.unattributed.is_zero() {
        frame.gas.charge(gas::LOAD)?;
        let owner = DatanetsReader::new(&frame.state).owner(datanet)?;
        credit(frame, id, model_id, owner, Role::DatanetOwner, Some(datanet), parts.unattributed)?;
    }

    let base = inference_slot(id);
    frame.store(
        base,
        pack([
            model_id,
            frame.env.block.number,
            u64::from(settlement.inputTokens),
            u64::from(settlement.outputTokens),
        ]),
    )?;
    frame.store_address(field(base, 1), provider)?;
    frame.store_address(field(base, 2), settlement.payer)?;
    frame.store(field(base, 3), fee)?;
    frame.store_word(field(base, 4), settlement.promptHash)?;
    frame.store_word(field(base, 5), settlement.outputHash)?;
    frame.store(field(base, 6), pack([datanet, u64::from(version), 0, 0]))?;
    frame.store_word(field(base, 7), settlement.indexHash)?;
    frame.gas.charge(gas::HASH_WORD * 2 * settlement.attribution.len() as u64)?;
    frame.store_word(field(base, 8), attribution_hash(&settlement.attribution))?;
    // For challenges: when the window opens, and what the contributors got.
    frame.store(field(base, 9), U256::from(frame.env.block.timestamp))?;
    let contributors_part =
        parts.contributors.iter().fold(parts.unattributed, |sum, (_, amount)| sum + amount);
    frame.store(field(base, 10), contributors_part)?;
    emit(
        frame,
        IInference::Settled {
            inferenceId: id,
            modelId: model_id,
            provider,
            payer: settlement.payer,
            fee,
            outputHash: settlement.outputHash,
        },
    )?;
    Ok(id)
}

/// keccak256 of the ABI-encoded attribution vector, as recorded.
pub fn attribution_hash(attribution: &[Attributed]) -> B256 {
    keccak256(attribution.to_vec().abi_encode())
}

/// An account's earnings, for RPC and tools.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Earnings {
    /// Unclaimed reward balance.
    pub claimable: U256,
    /// Credited as a contributor (or datanet owner), per datanet.
    pub per_datanet: Vec<(u64, U256)>,
    /// Credited in any role, per model.
    pub per_model: Vec<(u64, U256)>,
}

/// Read-only access to the inference contract, for RPC and tools.
pub struct InferenceReader<'a, S: StateView> {
    frame: Frame<'a, S>,
}

impl<S: StateView> std::fmt::Debug for InferenceReader<'_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InferenceReader")
    }
}

impl<'a, S: StateView> InferenceReader<'a, S> {
    /// A reader over `state`.
    pub fn new(state: &'a S) -> Self {
        Self { frame: crate::system::read_frame(state, INFERENCE) }
    }

    /// Number of inferences settled.
    pub fn inference_count(&mut self) -> Result<u64> {
        self.frame.load_u64(counts_slot())
    }

    /// A settled inference, `None` if it does not exist.
    pub fn inference(&mut self, id: u64) -> Result<Option<Inference>> {
        inference(&mut self.frame, id)
    }

    /// Unclaimed rewards of `account`.
    pub fn rewards_of(&mut self, account: Address) -> Result<U256> {
        self.frame.load(rewards_slot(&account))
    }

    /// What is left of `payer`'s deposit for `provider`.
    pub fn deposit_of(&mut self, payer: Address, provider: Address) -> Result<U256> {
        self.frame.load(deposit_slot(&payer, &provider))
    }

    /// True once `payer`'s authorisation `nonce` has settled.
    pub fn nonce_used(&mut self, payer: Address, nonce: U256) -> Result<bool> {
        Ok(!self.frame.load(nonce_slot(&payer, nonce))?.is_zero())
    }

    /// The settlement parameters.
    pub fn params(&mut self) -> Result<Params> {
        params(&mut self.frame)
    }

    /// Everything `account` has earned, per datanet and per model.
    pub fn earnings(&mut self, account: Address) -> Result<Earnings> {
        let (datanets, models) = sources(&mut self.frame, &account)?;
        let mut out = Earnings { claimable: self.rewards_of(account)?, ..Earnings::default() };
        for id in datanets {
            out.per_datanet.push((id, self.frame.load(earned_datanet_slot(&account, id))?));
        }
        for id in models {
            out.per_model.push((id, self.frame.load(earned_model_slot(&account, id))?));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
