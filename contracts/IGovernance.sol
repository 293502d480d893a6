// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Governance — proposals, votes, timelock and execution by OPEN stakers
/// @notice A native system contract at 0x0000000000000000000000000000000000001007,
/// with the semantics of OpenZeppelin's Governor (GovernorSettings,
/// GovernorCountingSimple, GovernorVotesQuorumFraction,
/// GovernorTimelockControl) on the ERC-6372 timestamp clock: every timepoint
/// is unix seconds of block time. Voting power is the stake delegated for
/// votes in the staking contract (0x…1005), read at past timepoints, so
/// stake acquired after a proposal's snapshot does not count for it.
///
/// A proposal is a list of actions: calls to system contracts (this one
/// included, for `setParams`, `spendTreasury` and `cancel` only), each with
/// no value. Its proposer needs `proposalThreshold` votes one second before
/// proposing. Voting opens after `snapshot = proposed-at + votingDelay`
/// (exclusive) and closes at `deadline = snapshot + votingPeriod`
/// (inclusive). It succeeds when For + Abstain reach the quorum
/// (`quorumNumerator` % of all votes at the snapshot, the numerator as it
/// was when proposed) and For exceeds Against. A succeeded proposal is
/// queued for `timelockDelay` seconds, then anyone may execute it within
/// the 14-day grace period (later it is Expired). Execution runs the
/// actions in order as calls from this contract, the only caller the
/// modules' `setParams` and `spendTreasury` accept; if one reverts, the
/// whole execution reverts and nothing changes. Failures revert with
/// `Error(string)`.
interface IGovernance {
    /// One call a proposal makes when executed.
    struct Action {
        /// A callable system contract (0x…1002 to 0x…1007).
        address target;
        /// The ABI-encoded call (selector first).
        bytes data;
    }

    /// Governable parameters. Durations are seconds of block time.
    struct Params {
        /// From proposing to the snapshot (voting opens right after it).
        uint64 votingDelay;
        /// From the snapshot to the deadline; never zero.
        uint64 votingPeriod;
        /// Votes (wei of staked OPEN) a proposer needs.
        uint256 proposalThreshold;
        /// Quorum as a percentage (0..=100) of all votes at the snapshot.
        uint8 quorumNumerator;
        /// From queueing to the earliest execution.
        uint64 timelockDelay;
    }

    /// OpenZeppelin's ProposalState, in its order.
    enum ProposalState {
        /// Before its snapshot: not yet open for votes.
        Pending,
        /// Open for votes (after the snapshot, until the deadline).
        Active,
        /// Canceled by its proposer or by governance.
        Canceled,
        /// Voting ended without quorum or with For not above Against.
        Defeated,
        /// Voting passed; it may be queued.
        Succeeded,
        /// Waiting for its eta, then executable within the grace period.
        Queued,
        /// Queued but not executed within the grace period.
        Expired,
        /// Its actions ran.
        Executed
    }

    /// A proposal with its tallies and state.
    struct Proposal {
        uint64 id;
        address proposer;
        /// Votes are counted as they were at this timepoint.
        uint64 snapshot;
        /// Last second of voting.
        uint64 deadline;
        /// Earliest execution; zero until queued.
        uint64 eta;
        uint256 forVotes;
        uint256 againstVotes;
        uint256 abstainVotes;
        /// For + Abstain needed; final once voting has opened.
        uint256 quorum;
        ProposalState state;
        string description;
        Action[] actions;
    }

    event ProposalCreated(uint64 indexed proposalId, address indexed proposer, Action[] actions, uint64 voteStart, uint64 voteEnd, string description);
    /// `support`: 0 Against, 1 For, 2 Abstain.
    event VoteCast(address indexed voter, uint64 indexed proposalId, uint8 support, uint256 weight, string reason);
    event ProposalQueued(uint64 indexed proposalId, uint64 eta);
    event ProposalExecuted(uint64 indexed proposalId);
    event ProposalCanceled(uint64 indexed proposalId);
    event TreasurySpent(address indexed to, uint256 amount);
    event ParamsChanged(Params params);

    /// Proposes `actions` (1 to 16, each at most 4 KiB of calldata, 8 KiB
    /// in all) with a non-empty description (at most 4 KiB). Ids count from 1.
    function propose(Action[] calldata actions, string calldata description) external returns (uint64 proposalId);
    /// Votes with the caller's votes at the snapshot: 0 Against, 1 For, 2 Abstain.
    function castVote(uint64 proposalId, uint8 support) external returns (uint256 weight);
    /// As `castVote`, with a reason (at most 1 KiB) kept in the event.
    function castVoteWithReason(uint64 proposalId, uint8 support, string calldata reason) external returns (uint256 weight);
    /// Queues a Succeeded proposal; it may execute after `timelockDelay`.
    function queue(uint64 proposalId) external returns (uint64 eta);
    /// Executes a Queued proposal whose eta has come (anyone may call).
    function execute(uint64 proposalId) external;
    /// Cancels a proposal: its proposer while Pending; governance itself
    /// (a proposal's action) at any time before it is Executed.
    function cancel(uint64 proposalId) external;
    /// Moves `amount` of the treasury's OPEN to `to` (governance only).
    function spendTreasury(address to, uint256 amount) external;
    /// Replaces the parameters (governance only).
    function setParams(Params calldata params) external;

    function params() external view returns (Params memory);
    function state(uint64 proposalId) external view returns (ProposalState);
    function getProposal(uint64 proposalId) external view returns (Proposal memory);
    function proposalCount() external view returns (uint64);
    function hasVoted(uint64 proposalId, address account) external view returns (bool);
    /// Votes needed at a past `timepoint` with the current quorum numerator.
    function quorum(uint64 timepoint) external view returns (uint256);
    /// `account`'s votes at a past `timepoint`.
    function getVotes(address account, uint64 timepoint) external view returns (uint256);
    /// ERC-6372: the current block time.
    function clock() external view returns (uint48);
    /// ERC-6372: "mode=timestamp".
    function CLOCK_MODE() external view returns (string memory);
}
