// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Inference — payment and settlement of model inferences by Proof of Attribution
/// @notice A native system contract at 0x0000000000000000000000000000000000001004.
/// A client pays for an inference either with a signed EIP-712
/// `InferenceAuthorization` (domain: name "OpenLedger Inference", version "1",
/// the chain id, this contract as verifying contract) that the provider sends
/// with the settlement, or from a deposit it made here for that provider.
/// The fee is `inputTokens × inputPricePer1k / 1000 + outputTokens ×
/// outputPricePer1k / 1000` (rounded down) plus the platform fee. The
/// platform fee goes to the treasury; the rest is split by governed basis
/// points among the model owner, the serving provider, stakers and the data
/// contributors, whose part is divided by the attribution weights (nothing
/// attributed: it goes to the datanet's owner). Every split is rounded down
/// and the dust goes to the treasury, so nothing is created or lost. Shares
/// are credited to reward balances (O(k) for k attributed contributions);
/// `claim` moves them to the spendable balance. Failures revert with
/// `Error(string)`.
interface IInference {
    /// What a client signs (EIP-712 typed data) to let `provider` charge it
    /// at most `maxFee` for one inference of `modelId` until `expiry`
    /// (unix seconds of block time). Each nonce settles once.
    struct InferenceAuthorization {
        uint64 modelId;
        address provider;
        uint256 maxFee;
        uint256 nonce;
        uint64 expiry;
    }

    /// One attributed contribution and its weight in basis points.
    struct Attributed {
        uint64 contributionId;
        uint16 bps;
    }

    /// What a provider submits after serving an inference.
    struct Settlement {
        uint64 modelId;
        /// The client charged: the signer of the authorisation, or the depositor.
        address payer;
        /// sha256 of the prompt and of the output text.
        bytes32 promptHash;
        bytes32 outputHash;
        uint32 inputTokens;
        uint32 outputTokens;
        /// The fee the provider computed; must equal `feeFor(...)`.
        uint256 fee;
        /// The datanet version whose attribution index was used (one the model was trained on).
        uint64 datanetId;
        uint32 version;
        /// Must equal the index hash recorded for that version.
        bytes32 indexHash;
        /// Ascending contribution ids, bps summing to 10,000; empty when nothing matched.
        Attributed[] attribution;
        /// The authorisation's terms (also used, with an empty signature, for deposit payments).
        uint256 maxFee;
        uint256 nonce;
        uint64 expiry;
    }

    /// Who a credit went to.
    enum Role {
        /// The model's owner.
        Owner,
        /// The provider that served the inference.
        Provider,
        /// The stakers' pool.
        Stakers,
        /// A contributor whose data the answer used.
        Contributor,
        /// The datanet's owner, when nothing was attributed.
        DatanetOwner
    }

    /// A settled inference as stored.
    struct Inference {
        uint64 id;
        uint64 modelId;
        address provider;
        address payer;
        uint256 fee;
        bytes32 promptHash;
        bytes32 outputHash;
        uint32 inputTokens;
        uint32 outputTokens;
        uint64 datanetId;
        uint32 version;
        bytes32 indexHash;
        /// keccak256 of the ABI-encoded attribution vector.
        bytes32 attributionHash;
        uint64 settledAtBlock;
    }

    /// Governable parameters.
    struct Params {
        /// Flat fee per inference, to the treasury (wei).
        uint256 platformFee;
        uint16 ownerBps;
        uint16 providerBps;
        uint16 stakersBps;
        uint16 contributorsBps;
    }

    event Settled(uint64 indexed inferenceId, uint64 indexed modelId, address indexed provider, address payer, uint256 fee, bytes32 outputHash);
    event Credited(uint64 indexed inferenceId, address indexed account, Role role, uint64 datanetId, uint256 amount);
    event Claimed(address indexed account, uint256 amount);
    event Deposited(address indexed payer, address indexed provider, uint256 amount);
    event DepositWithdrawn(address indexed payer, address indexed provider, uint256 amount);

    /// Settles one inference (the caller is the provider). With a 65-byte
    /// signature the payer's spendable OPEN is charged under its
    /// authorisation; with an empty one its deposit for the caller is.
    function settle(Settlement calldata settlement, bytes calldata signature) external returns (uint64 inferenceId);
    /// Moves `amount` of the caller's spendable OPEN into a deposit for `provider`.
    function deposit(address provider, uint256 amount) external;
    /// Takes back up to what is left of a deposit.
    function withdrawDeposit(address provider, uint256 amount) external;
    /// Moves the caller's reward balance to its spendable OPEN.
    function claim() external returns (uint256 amount);

    function feeFor(uint64 modelId, uint32 inputTokens, uint32 outputTokens) external view returns (uint256);
    function rewardsOf(address account) external view returns (uint256);
    function depositOf(address payer, address provider) external view returns (uint256);
    function nonceUsed(address payer, uint256 nonce) external view returns (bool);
    function inferenceCount() external view returns (uint64);
    function getInference(uint64 inferenceId) external view returns (Inference memory);
    /// Everything `account` has been credited as a contributor (or datanet owner) of `datanetId`.
    function earnedInDatanet(address account, uint64 datanetId) external view returns (uint256);
    /// Everything `account` has been credited from inferences of `modelId`, in any role.
    function earnedFromModel(address account, uint64 modelId) external view returns (uint256);
    /// The datanets and models `account` has earned from, in the order it first did.
    function earningSources(address account) external view returns (uint64[] memory datanetIds, uint64[] memory modelIds);
    function params() external view returns (Params memory);
    /// Replaces the settlement parameters; only governance may (shares must sum to 10,000).
    function setParams(Params calldata params) external;
    event ParamsChanged(Params params);

    // ---- Attribution challenges ----------------------------------------
    // Within `windowSeconds` of a settlement anyone may challenge it with the
    // output text and the attribution vector that was settled (both checked
    // against the recorded hashes). The ledger recomputes the attribution
    // from the version's recorded index with the default parameters. Same
    // result: the challenger's bond goes to the provider. Different: up to
    // `providerSlash` of the provider's self-bond (staking) is slashed; from
    // it the contributors' part is credited again by the recomputed
    // attribution, the challenger gets `challengerBps` of the rest and the
    // treasury the remainder. Each settlement is judged once.

    /// Governable parameters of challenges.
    struct ChallengeParams {
        uint64 windowSeconds;
        /// OPEN (wei) the challenger risks.
        uint256 bond;
        /// Most OPEN (wei) slashed from the provider's self-bond.
        uint256 providerSlash;
        uint16 challengerBps;
    }

    /// How a challenge ended: 0 not challenged, 1 upheld, 2 rejected.
    struct Challenge {
        uint8 outcome;
        address challenger;
        uint64 judgedAtBlock;
        uint256 slashed;
    }

    event ChallengeUpheld(uint64 indexed inferenceId, address indexed challenger, address indexed provider, uint256 slashed, bytes32 recomputedAttributionHash);
    event ChallengeRejected(uint64 indexed inferenceId, address indexed challenger, address indexed provider, uint256 bond);

    /// Challenges inference `inferenceId`'s attribution; returns true when
    /// the challenge was upheld (the settled attribution was wrong).
    function challenge(uint64 inferenceId, string calldata output, Attributed[] calldata settled) external returns (bool upheld);
    function getChallenge(uint64 inferenceId) external view returns (Challenge memory);
    function challengeParams() external view returns (ChallengeParams memory);
    /// Only governance.
    function setChallengeParams(ChallengeParams calldata params) external;
}
