// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Agents — registered AI agents, their stake, jailing and slashing evidence
/// @notice A native system contract at 0x0000000000000000000000000000000000001006.
/// An operator registers an agent: the agent's own key address, its metadata
/// and a stake of at least the governed minimum, bonded from the operator's
/// spendable OPEN to the agent's address in the staking contract
/// (0x…1005), which holds it. The agent key consents with an EIP-712
/// `AgentBinding` signature (domain: name "OpenLedger Agents", version "1",
/// the chain id, this contract as verifying contract), so whatever that key
/// signs later is attributable to this registration. An address registers
/// at most once, ever: a deregistered agent's key stays bound to its old id
/// (its past statements must keep pointing there), and a new registration
/// needs a new key.
///
/// Slashing needs on-chain evidence: two `AgentStatement`s signed by the
/// agent's key for the same request nonce with different content
/// (equivocation; anyone may submit them and receives the staking
/// contract's reporter share), or a report upheld by governance. Either
/// jails the agent; its operator unjails it after `jailSeconds` once its
/// bond is back to at least `minStake`. Slashing reaches the bonded stake
/// first, then stake still unbonding. Failures revert with `Error(string)`.
interface IAgents {
    /// What an operator declares about its agent.
    struct AgentMetadata {
        /// 1 to 64 bytes, no control characters.
        string name;
        /// At most 1,024 bytes.
        string description;
        /// Where the agent is reached: empty, or an http(s) URL of at most 256 bytes.
        string endpoint;
        /// The registered, not retired, model it uses; 0 for none.
        uint64 modelId;
    }

    /// What the agent's key signs (EIP-712 typed data) to consent to be
    /// registered by `operator`.
    struct AgentBinding {
        address operator;
        address agent;
    }

    /// What the agent's key signs for each answer it gives: its id, the
    /// request it answers (one nonce, one answer) and a hash of the content.
    struct AgentStatement {
        uint64 agentId;
        uint256 requestNonce;
        bytes32 contentHash;
    }

    /// An agent's standing, most severe first: a deregistered agent shows
    /// Deregistered, a jailed one Jailed (even if also paused).
    enum Status {
        /// Serving.
        Active,
        /// Paused by its operator.
        Paused,
        /// Jailed for misbehaviour, until its operator unjails it.
        Jailed,
        /// Deregistered by its operator (final).
        Deregistered
    }

    /// An agent as stored, with its stake as the staking contract holds it.
    struct Agent {
        uint64 id;
        address operator;
        /// The agent's own key address.
        address agent;
        AgentMetadata metadata;
        Status status;
        /// Paused by its operator (independent of jailing).
        bool paused;
        /// Jailed and not yet unjailed.
        bool jailed;
        /// When it was last jailed (unix seconds of block time; 0 if never).
        uint64 jailedAt;
        /// The earliest block time `unjail` is allowed (0 if never jailed).
        uint64 jailedUntil;
        /// The operator's stake bonded to the agent.
        uint256 bonded;
        /// The operator's stake at the agent still unbonding (slashable until withdrawn).
        uint256 unbonding;
        uint64 registeredAtBlock;
    }

    /// Why an agent was jailed.
    enum JailReason {
        /// Two different statements for one request.
        Equivocation,
        /// A report upheld by governance.
        Report,
        /// A proven wrong attribution (another module's challenge).
        AttributionChallenge
    }

    /// Where a report stands.
    enum ReportStatus {
        /// Waiting for governance.
        Open,
        /// Upheld: the agent was slashed and jailed.
        Upheld,
        /// Rejected: nothing happened.
        Rejected
    }

    /// A report filed against an agent, for governance to resolve.
    struct Report {
        uint64 id;
        uint64 agentId;
        address reporter;
        /// sha256 (or any hash) of the evidence, kept off-chain.
        bytes32 evidenceHash;
        /// The slash asked for (wei).
        uint256 amount;
        string reason;
        ReportStatus status;
        uint64 filedAtBlock;
        /// 0 while open.
        uint64 resolvedAtBlock;
    }

    /// Governable parameters.
    struct Params {
        /// Least stake (wei) to register, and to unjail.
        uint256 minStake;
        /// Share of the agent's stake slashed for equivocation (at most 10,000).
        uint16 equivocationSlashBps;
        /// How long a jailed agent waits before it may be unjailed (at most 365 days).
        uint64 jailSeconds;
    }

    event AgentRegistered(uint64 indexed agentId, address indexed operator, address indexed agent, uint256 stake);
    event AgentPaused(uint64 indexed agentId);
    event AgentResumed(uint64 indexed agentId);
    event MetadataUpdated(uint64 indexed agentId, uint64 modelId);
    event ToppedUp(uint64 indexed agentId, uint256 amount, uint256 bonded);
    event AgentDeregistered(uint64 indexed agentId, uint256 unbonding, uint64 withdrawableAt);
    event AgentJailed(uint64 indexed agentId, JailReason reason, uint64 jailedUntil);
    event AgentUnjailed(uint64 indexed agentId);
    event AgentSlashed(uint64 indexed agentId, JailReason reason, address indexed reporter, uint256 amount, uint256 toReporter);
    event EquivocationProven(uint64 indexed agentId, uint256 indexed requestNonce, bytes32 contentHashA, bytes32 contentHashB);
    event ReportFiled(uint64 indexed reportId, uint64 indexed agentId, address indexed reporter, uint256 amount, bytes32 evidenceHash);
    event ReportResolved(uint64 indexed reportId, uint64 indexed agentId, bool upheld);
    event ParamsSet(uint256 minStake, uint16 equivocationSlashBps, uint64 jailSeconds);

    /// Registers `agent` with the caller as its operator, bonding `stake` of
    /// the caller's spendable OPEN (at least `minStake`). `agentSignature`
    /// is the agent key's 65-byte EIP-712 signature of
    /// `AgentBinding(caller, agent)`.
    function registerAgent(address agent, AgentMetadata calldata metadata, uint256 stake, bytes calldata agentSignature) external returns (uint64 agentId);
    /// Pauses an active agent (operator only).
    function pause(uint64 agentId) external;
    /// Resumes a paused agent (operator only); a jailed agent stays jailed.
    function resume(uint64 agentId) external;
    /// Replaces the metadata (operator only; not once deregistered).
    function updateMetadata(uint64 agentId, AgentMetadata calldata metadata) external;
    /// Bonds `amount` more of the operator's spendable OPEN to the agent.
    function topUp(uint64 agentId, uint256 amount) external;
    /// Deregisters the agent (operator only, final): its whole bond starts
    /// unbonding, to be withdrawn through the staking contract.
    function deregister(uint64 agentId) external;
    /// Ends a jailing (operator only) once `jailedUntil` has passed and the
    /// bond is at least `minStake`.
    function unjail(uint64 agentId) external;

    /// Proves equivocation: two statements of the agent for the same request
    /// nonce with different content hashes, both signed by its key. Slashes
    /// `equivocationSlashBps` of its stake (the caller gets the reporter
    /// share) and jails it. Each (agent, nonce) is punished once.
    function reportEquivocation(AgentStatement calldata first, bytes calldata firstSignature, AgentStatement calldata second, bytes calldata secondSignature) external returns (uint256 slashed);
    /// Files a report asking governance to slash `amount` of the agent's stake.
    function fileReport(uint64 agentId, bytes32 evidenceHash, uint256 amount, string calldata reason) external returns (uint64 reportId);
    /// Resolves an open report (governance only): upheld, `amount` is
    /// slashed (the reporter gets the reporter share) and the agent jailed;
    /// rejected, the report is closed.
    function resolveReport(uint64 reportId, bool uphold) external;
    /// Sets the parameters (governance only).
    function setParams(Params calldata params) external;

    function getAgent(uint64 agentId) external view returns (Agent memory);
    /// The id of the agent registered with key `agent`; 0 if none.
    function agentOf(address agent) external view returns (uint64);
    function agentCount() external view returns (uint64);
    function getReport(uint64 reportId) external view returns (Report memory);
    function reportCount() external view returns (uint64);
    /// True once equivocation at (agentId, requestNonce) has been punished.
    function equivocationPunished(uint64 agentId, uint256 requestNonce) external view returns (bool);
    function params() external view returns (Params memory);
}
