// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Staking — bonded OPEN, the stakers' reward pool and voting power
/// @notice A native system contract at 0x0000000000000000000000000000000000001005.
/// An account bonds ("stakes") its spendable OPEN to a validator, provider or
/// agent address: to itself (a self-bond) or to another (a delegation of
/// stake). Vesting-locked OPEN cannot be staked. This contract holds every
/// bonded and unbonding wei and the undistributed rewards.
///
/// Unbonding: `unstake` moves part of a bond into an unbonding entry that
/// stops earning and stops counting as voting power at once, stays
/// slashable, and can be withdrawn once block time reaches its completion
/// (`unbondingSeconds` after it started, governable, 7 days by default). At
/// most 16 entries per (staker, validator) wait at a time.
///
/// Rewards: the stakers' share of every inference fee is spread over all
/// bonded stake, pro rata, by a reward-per-token accumulator scaled by 1e36.
/// A distribution of `a` wei over `T` bonded wei adds `(a·1e36 + r) / T` to
/// the accumulator and keeps the remainder `r` of that division for the
/// next distribution, so the accumulator loses nothing. A distribution while
/// nothing is bonded waits (`queued`) and joins the next one. Each position
/// (staker, validator) earns `bonded × Δaccumulator` (in 1e-36 wei) while
/// bonded; its claimable reward is that credit divided by 1e36, ROUNDED
/// DOWN, and the fraction below one wei stays with the position for its
/// next claim. What no position can claim yet — the positions' fractions
/// and the accumulator's remainder, each below one wei — is the pool's dust
/// (`undistributed()`, with anything queued): for every history,
/// Σ claimed + Σ claimable + undistributed = Σ distributed, to the wei.
///
/// Voting power (ERC-5805 / ERC-6372 with the timestamp clock): an
/// account's voting units are all the OPEN it has bonded, at any
/// validator. It votes them itself until it `delegate`s them to another
/// account. Checkpoints are keyed by block timestamp (a later write in a
/// block with the same timestamp replaces the earlier one); unbonding and
/// slashing lower votes at once.
///
/// Slashing is not callable here: the agents, attribution-challenge,
/// governance and consensus-evidence rules slash through the ledger. A
/// slash takes from the bond first, then from unbonding entries newest
/// first; the reporter, when there is one, receives `slashReporterBps` of
/// it (rounded down) and the treasury the rest. Failures revert with
/// `Error(string)`.
///
/// Validators: the operator of a validator is the EVM account whose address
/// stakers bond to; it registers its consensus key (an ed25519 public key;
/// the consensus engine's validator address is sha256(key)[..20]) with
/// `registerValidator`, which needs `minValidatorStake` already bonded to it
/// (by anyone) the first time. A key belongs to one operator at a time and
/// changes only while its operator is out of the active set (the old key
/// stays bound to that operator for good). The active set
/// is recomputed at the end of every block whose number is a multiple of
/// `epochBlocks` and takes effect from the next block: every registered,
/// unjailed validator with at least `minValidatorStake` (and one whole OPEN)
/// bonded to it, the `maxValidators` largest by stake (ties: the lower
/// address first); its voting power is its stake in whole OPEN, rounded
/// down. When no validator qualifies the previous set stays. A validator
/// that double-signs loses `doubleSignSlashBps` of every position bonded to
/// it (bonded and unbonding, each rounded down; the reporter share as for
/// any slash), is jailed for `jailSeconds` and leaves the set from the
/// next block; it may rejoin once block time reaches `jailedUntil`. While
/// jailed it is not punished again (one double sign, one slash), and a
/// validator reporting itself gets no reporter share.
///
/// Double-sign evidence: anyone proves a double sign with
/// `reportDoubleSign`, giving a registered consensus key and two votes it
/// signed of one kind, height and round for different values (nil and a
/// block differ). The contract rebuilds each vote's sign bytes,
/// `"openledger/vote/v1" ‖ chainId u64 ‖ kind u8 ‖ height u64 ‖ round u32
/// ‖ 0x00 (nil) | 0x01 ‖ blockHash (32) ‖ sha256(consensusKey)[..20]`
/// (big-endian; this chain's id, so a vote signed for another chain does
/// not count) and verifies both 64-byte ed25519 signatures itself under
/// ZIP-215's rules, which every node applies identically. The height must
/// be at most the current block number and at most `evidenceMaxAgeBlocks`
/// behind it. The validator is then slashed and jailed as above, the caller
/// being the reporter; each (validator, height) is punished once.
interface IStaking {
    /// Governable parameters.
    struct Params {
        /// Seconds between `unstake` and when the entry can be withdrawn (1 s .. 365 days).
        uint64 unbondingSeconds;
        /// The reporter's share of a slash, in basis points (0 .. 10,000).
        uint16 slashReporterBps;
        /// The stakers' share of every block's base fees, in basis points
        /// (0 .. 10,000; default 0: all base fees to the treasury).
        uint16 baseFeeStakersBps;
    }

    /// Governable validator-set parameters.
    struct ValidatorParams {
        /// Blocks per epoch: the set is recomputed after blocks whose number is a multiple (1 .. 1,000,000).
        uint64 epochBlocks;
        /// Least stake bonded to a validator for it to be in the set (wei).
        uint256 minValidatorStake;
        /// Most validators in the set (1 .. 1,000).
        uint16 maxValidators;
        /// Share of a double-signer's stake slashed, in basis points (0 .. 10,000).
        uint16 doubleSignSlashBps;
        /// Seconds a double-signer stays jailed (0 .. 10 years).
        uint64 jailSeconds;
        /// Oldest double-sign evidence accepted, in blocks behind the
        /// current one (1 .. 10,000,000; default 100,800).
        uint64 evidenceMaxAgeBlocks;
    }

    /// A consensus vote as double-sign evidence carries it (the voter's
    /// address is not sent: it is sha256(consensusKey)[..20]).
    struct Vote {
        /// 0 prevote, 1 precommit.
        uint8 kind;
        uint64 height;
        uint32 round;
        /// A vote for no block; `blockHash` must then be zero.
        bool nil;
        /// The block voted for (when not `nil`).
        bytes32 blockHash;
    }

    /// Stake waiting to be withdrawn.
    struct Unbonding {
        uint256 amount;
        /// Block time (unix seconds) from which it can be withdrawn.
        uint64 completesAt;
    }

    /// One (staker, validator) position.
    struct Position {
        address validator;
        uint256 bonded;
        /// All its unbonding entries together.
        uint256 unbonding;
        /// What `claimRewards(validator)` would pay now.
        uint256 pendingRewards;
    }

    /// The rewards pool.
    struct RewardPool {
        /// Everything ever distributed to this contract (queued included).
        uint256 distributed;
        /// Everything ever claimed.
        uint256 claimed;
        /// Distributed while nothing was bonded; joins the next distribution.
        uint256 queued;
        /// The accumulator: rewards per bonded wei, scaled by 1e36.
        uint256 rewardPerToken;
        /// The accumulator's division remainder (1e-36 wei), carried to the next distribution.
        uint256 remainder;
    }

    event Staked(address indexed staker, address indexed validator, uint256 amount);
    event UnbondingStarted(address indexed staker, address indexed validator, uint256 amount, uint64 completesAt);
    event Withdrawn(address indexed staker, address indexed validator, uint256 amount);
    event RewardsClaimed(address indexed staker, address indexed validator, uint256 amount);
    /// `amount` arrived from `from`. With `totalBonded` zero it waits in
    /// `queued`; otherwise it (with anything queued before) was spread over
    /// `totalBonded` and `queued` is zero.
    event RewardsDistributed(address indexed from, uint256 amount, uint256 totalBonded, uint256 queued);
    /// `reporter` is the zero address when there was none.
    event Slashed(address indexed staker, address indexed validator, address indexed reporter, uint256 fromBonded, uint256 fromUnbonding, uint256 toReporter, uint256 toTreasury);
    event DelegateChanged(address indexed delegator, address indexed fromDelegate, address indexed toDelegate);
    event DelegateVotesChanged(address indexed delegate, uint256 previousVotes, uint256 newVotes);
    event ParamsChanged(uint64 unbondingSeconds, uint16 slashReporterBps, uint16 baseFeeStakersBps);
    event ValidatorParamsChanged(uint64 epochBlocks, uint256 minValidatorStake, uint16 maxValidators, uint16 doubleSignSlashBps, uint64 jailSeconds, uint64 evidenceMaxAgeBlocks);
    /// The first registration of `operator`.
    event ValidatorRegistered(address indexed operator, bytes32 consensusKey, string moniker);
    /// A registered validator changed its key or moniker.
    event ValidatorUpdated(address indexed operator, bytes32 consensusKey, string moniker);
    /// `operator` double-signed at consensus `height`: slashed `amount` in all and jailed until
    /// `jailedUntil`. `evidenceHash` is, for `reportDoubleSign`, keccak256 of the two
    /// `sign bytes ‖ signature` strings, the lesser first.
    event ValidatorJailed(address indexed operator, uint64 height, bytes32 evidenceHash, uint256 amount, uint64 jailedUntil);

    /// Bonds `amount` of the caller's spendable OPEN to `validator` (itself for a self-bond).
    function stake(address validator, uint256 amount) external;
    /// Starts unbonding `amount` of the caller's bond to `validator`.
    function unstake(address validator, uint256 amount) external returns (uint64 completesAt);
    /// Pays out every matured unbonding entry of the caller at `validator`;
    /// refuses (naming when the next completes) while none has matured.
    function withdrawUnbonded(address validator) external returns (uint256 amount);
    /// Pays the caller's rewards from its position at `validator`.
    function claimRewards(address validator) external returns (uint256 amount);
    /// Gives the caller's voting units to `delegatee` (the caller itself to vote them again).
    function delegate(address delegatee) external;
    /// Sets the parameters; only governance may.
    function setParams(Params calldata params) external;
    /// Registers the caller as a validator operator with its ed25519
    /// `consensusKey` (or changes its key or moniker, 1 .. 64 bytes).
    function registerValidator(bytes32 consensusKey, string calldata moniker) external;
    /// Sets the validator-set parameters; only governance may.
    function setValidatorParams(ValidatorParams calldata params) external;
    /// Proves that the validator holding `consensusKey` signed both `a` and
    /// `b` (same kind, height and round; different values), with
    /// `signatureA` and `signatureB` its ed25519 signatures of their sign
    /// bytes on this chain. Slashes and jails it (see above; the caller is
    /// the reporter). Reverts, changing nothing, for an unregistered key,
    /// votes that do not conflict, a signature that is not 64 bytes or does
    /// not verify, a height in the future or older than
    /// `evidenceMaxAgeBlocks`, or a (validator, height) already punished.
    function reportDoubleSign(bytes32 consensusKey, Vote calldata a, bytes calldata signatureA, Vote calldata b, bytes calldata signatureB) external returns (uint256 slashed, uint64 jailedUntil);

    function params() external view returns (Params memory);
    function validatorParams() external view returns (ValidatorParams memory);
    /// A validator's record (a zero key: never registered); `active` when it is in the current set.
    function validatorInfo(address operator) external view returns (bytes32 consensusKey, string memory moniker, uint64 jailedUntil, bool active);
    /// The active set of the current epoch, largest stake first.
    function validatorSet() external view returns (address[] memory operators, bytes32[] memory keys, uint256[] memory powers);
    /// The current epoch (how many times the set was chosen, genesis validators
    /// included; 0 before any) and the first block its set applies to.
    function epoch() external view returns (uint64 number, uint64 startBlock);
    function bonded(address staker, address validator) external view returns (uint256);
    function unbondingOf(address staker, address validator) external view returns (uint256);
    /// The waiting entries, oldest first.
    function unbondingEntries(address staker, address validator) external view returns (Unbonding[] memory);
    function pendingRewards(address staker, address validator) external view returns (uint256);
    /// Every validator `staker` ever bonded to, in the order it first did, with its position there.
    function positionsOf(address staker) external view returns (Position[] memory);
    function validatorStake(address validator) external view returns (uint256);
    function totalBonded() external view returns (uint256);
    function totalUnbonding() external view returns (uint256);
    function rewardPool() external view returns (RewardPool memory);
    /// Rewards no position can claim yet: queued plus dust (reads every position).
    function undistributed() external view returns (uint256);

    /// Current votes of `account`.
    function getVotes(address account) external view returns (uint256);
    /// Votes of `account` at the end of the last block with timestamp ≤ `timepoint` (< clock()).
    function getPastVotes(address account, uint256 timepoint) external view returns (uint256);
    /// All votes at `timepoint` (< clock()).
    function getPastTotalSupply(uint256 timepoint) external view returns (uint256);
    /// Who `account`'s votes count for (itself until it delegates).
    function delegates(address account) external view returns (address);
    /// ERC-6372: the current block timestamp.
    function clock() external view returns (uint48);
    /// ERC-6372: "mode=timestamp".
    function CLOCK_MODE() external view returns (string memory);
}
