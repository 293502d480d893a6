// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Datanets — community datasets with per-contribution ownership
/// @notice A native system contract at 0x0000000000000000000000000000000000001002.
/// Any Ethereum client calls it with an ordinary signed transaction; the
/// node's ledger executes it. Contribution bytes live in the node's
/// content-addressed blob store (`ol_putBlob` or `PUT /blobs/<sha256>`);
/// the chain keeps hashes, sizes, owners, licences and status.
/// Failures revert with `Error(string)` reasons that say what was wrong.
///
/// Reputation: each contributor has a penalty score per datanet, raised when
/// one of its contributions is rejected as spam, when one is proven to nearly
/// duplicate an earlier accepted contribution of another contributor
/// (`reportNearDuplicate`), and when governance confirms a poisoning report
/// (`resolvePoisoningReport`). At or above `Params.penaltyThreshold` the
/// contributor's attribution rewards in that datanet are cut to zero at every
/// later settlement: its share goes to the other attributed contributors of
/// that settlement, pro rata to their weights (to the datanet's owner when
/// every attributed contributor is cut).
interface IDatanets {
    /// Who may contribute.
    enum Policy {
        /// Anyone; contributions are accepted at once.
        Open,
        /// Anyone; the owner or a curator approves or rejects each one.
        OwnerApproval,
        /// Only accounts the owner allowed; accepted at once.
        AllowList
    }

    /// How a contribution's bytes are parsed into text rows.
    enum Format {
        /// Plain text (.txt).
        Text,
        /// Markdown (.md).
        Markdown,
        /// JSON lines (.jsonl); the datanet names the text field.
        Jsonl,
        /// Comma-separated values (.csv) with a header; the datanet names the column.
        Csv
    }

    /// Where a contribution stands.
    enum Status {
        /// No such contribution.
        None,
        /// Waiting for the owner or a curator.
        Pending,
        /// Part of the next version.
        Accepted,
        /// Refused by the owner or a curator.
        Rejected,
        /// Taken down by its contributor.
        Withdrawn
    }

    /// What the creator of a datanet chooses.
    struct DatanetConfig {
        string name;
        string summary;
        /// Markdown.
        string description;
        string[] tags;
        /// An SPDX licence expression; empty when `customTermsHash` is set.
        string licence;
        /// sha256 of custom licence terms, or zero.
        bytes32 customTermsHash;
        Policy policy;
        /// Largest contribution in bytes; 0 means the default (5 MB).
        uint64 maxSubmissionBytes;
        /// Accepted formats; at least one.
        Format[] formats;
        /// JSON field holding the text of a .jsonl row; empty means "text".
        string jsonlField;
        /// Column holding the text of a .csv row; empty means "text".
        string csvColumn;
    }

    /// A datanet as stored.
    struct Datanet {
        uint64 id;
        address owner;
        DatanetConfig config;
        uint64 contributionCount;
        uint64 acceptedCount;
        uint32 versionCount;
        uint64 createdAtBlock;
    }

    /// Why a penalty score was raised.
    enum PenaltyReason {
        /// A contribution was rejected as spam.
        Spam,
        /// A contribution was proven to nearly duplicate an earlier one of another contributor.
        NearDuplicate,
        /// Governance confirmed a poisoning report.
        Poisoning
    }

    /// Where a poisoning report stands.
    enum ReportStatus {
        /// No such report.
        None,
        /// Waiting for governance.
        Open,
        /// Confirmed by governance: the account's penalty was raised.
        Confirmed,
        /// Dismissed by governance.
        Dismissed
    }

    /// Governable parameters (`setParams` is callable only by governance).
    struct Params {
        /// Deposit charged for every contribution (wei).
        uint256 depositBase;
        /// Deposit charged per started KiB of content (wei).
        uint256 depositPerKib;
        /// Largest contribution of a datanet that names none (bytes).
        uint64 defaultMaxSubmission;
        /// Added to the contributor's score when a contribution is rejected as spam.
        uint64 spamPenalty;
        /// Added to the contributor's score when a near-duplicate is proven.
        uint64 duplicatePenalty;
        /// Added to the account's score when governance confirms a poisoning report.
        uint64 poisoningPenalty;
        /// At or above this score the contributor earns no attribution rewards in the datanet.
        uint64 penaltyThreshold;
    }

    /// A contributor's standing in one datanet.
    struct Penalty {
        uint64 score;
        /// True when `score >= threshold`: its attribution rewards in the datanet are cut.
        bool cut;
        uint64 threshold;
        uint64 spamRejections;
        uint64 nearDuplicates;
        uint64 confirmedPoisonings;
    }

    /// A report that an account poisoned a datanet.
    struct PoisoningReport {
        uint64 id;
        uint64 datanetId;
        address account;
        address reporter;
        /// Hash of the evidence, kept off-chain.
        bytes32 evidenceHash;
        string reason;
        ReportStatus status;
        uint64 filedAtBlock;
        uint64 resolvedAtBlock;
    }

    /// A contribution as stored.
    struct Contribution {
        uint64 id;
        uint64 datanetId;
        address contributor;
        /// sha256 of the bytes as uploaded.
        bytes32 contentHash;
        /// sha256 of the normalised rows (exact duplicates share it).
        bytes32 normalisedHash;
        uint64 size;
        Format format;
        string licence;
        Status status;
        /// OPEN (wei) held while pending.
        uint256 deposit;
        /// An earlier accepted contribution this one nearly duplicates, or 0.
        uint64 nearDuplicateOf;
        /// Position among the datanet's accepted contributions (1-based), or 0.
        uint64 acceptedSeq;
        uint64 submittedAtBlock;
    }

    /// An immutable, numbered snapshot of a datanet.
    struct Version {
        uint64 datanetId;
        uint32 number;
        /// Merkle root of the included contributions in acceptance order.
        bytes32 root;
        uint64 contributionCount;
        uint64 publishedAtBlock;
        /// sha256 identity of the attribution index, once recorded.
        bytes32 indexHash;
        string tokenizer;
    }

    event DatanetCreated(uint64 indexed datanetId, address indexed owner, string name);
    event OwnershipTransferred(uint64 indexed datanetId, address indexed previousOwner, address indexed newOwner);
    event CuratorSet(uint64 indexed datanetId, address indexed account, bool enabled);
    event AllowListSet(uint64 indexed datanetId, address indexed account, bool allowed);
    event ContributionSubmitted(
        uint64 indexed datanetId,
        uint64 indexed contributionId,
        address indexed contributor,
        bytes32 contentHash,
        uint64 size,
        uint256 deposit,
        uint64 nearDuplicateOf
    );
    event ContributionAccepted(uint64 indexed datanetId, uint64 indexed contributionId, uint64 acceptedSeq);
    event ContributionRejected(uint64 indexed datanetId, uint64 indexed contributionId, bool spam);
    event ContributionWithdrawn(uint64 indexed datanetId, uint64 indexed contributionId, bytes32 contentHash);
    event VersionPublished(uint64 indexed datanetId, uint32 indexed version, bytes32 root, uint64 contributionCount);
    event IndexRecorded(uint64 indexed datanetId, uint32 indexed version, bytes32 indexHash, string tokenizer);
    event PenaltyRaised(uint64 indexed datanetId, address indexed account, PenaltyReason reason, uint64 amount, uint64 newScore);
    event NearDuplicateProven(uint64 indexed datanetId, uint64 indexed contributionId, uint64 indexed originalId, uint32 agreeingSlots, address reporter);
    event PoisoningReported(uint64 indexed reportId, uint64 indexed datanetId, address indexed account, address reporter, bytes32 evidenceHash, string reason);
    event PoisoningResolved(uint64 indexed reportId, uint64 indexed datanetId, address indexed account, bool confirmed);
    event ParamsSet(Params params);

    /// Creates a datanet owned by the caller.
    function createDatanet(DatanetConfig calldata config) external returns (uint64 datanetId);
    /// Hands the datanet to another owner (owner only).
    function transferOwnership(uint64 datanetId, address newOwner) external;
    /// Appoints or removes a curator (owner only).
    function setCurator(uint64 datanetId, address account, bool enabled) external;
    /// Adds or removes an account from the allow-list (owner only).
    function setAllowed(uint64 datanetId, address account, bool allowed) external;

    /// Submits uploaded bytes. Charges `depositFor(size)` from the caller's
    /// spendable OPEN; refunded on acceptance, kept by the treasury when
    /// rejected as spam. `licence` empty means the datanet's licence.
    function contribute(uint64 datanetId, bytes32 contentHash, uint64 size, Format format, string calldata licence)
        external
        returns (uint64 contributionId);
    /// Accepts a pending contribution (owner or curator).
    function approve(uint64 contributionId) external;
    /// Rejects a pending contribution (owner or curator); `spam` keeps the deposit.
    function reject(uint64 contributionId, bool spam) external;
    /// Takes down the caller's own contribution: excluded from later versions and attribution.
    function withdraw(uint64 contributionId) external;
    /// Publishes the next version from the accepted contributions (owner or curator).
    function publishVersion(uint64 datanetId) external returns (uint32 version);
    /// Records the attribution index built for a version (owner or curator).
    function recordIndex(uint64 datanetId, uint32 version, bytes32 indexHash, string calldata tokenizer) external;

    /// Proves that accepted contribution `contributionId` nearly duplicates
    /// `originalId` (anyone may call): both accepted in the same datanet, the
    /// original submitted earlier by another contributor, and their MinHash
    /// signatures agreeing in at least 48 of 64 slots (the similarity that
    /// flags a near-duplicate at submission). Raises the duplicator's score by
    /// `duplicatePenalty`; a contribution is proven a near-duplicate once.
    function reportNearDuplicate(uint64 contributionId, uint64 originalId) external;
    /// Files a report that `account` poisoned datanet `datanetId` (anyone may call).
    function reportPoisoning(uint64 datanetId, address account, bytes32 evidenceHash, string calldata reason)
        external
        returns (uint64 reportId);
    /// Confirms or dismisses an open poisoning report (governance only); a
    /// confirmation raises the account's score by `poisoningPenalty`.
    function resolvePoisoningReport(uint64 reportId, bool confirmed) external;
    /// Replaces the governable parameters (governance only).
    function setParams(Params calldata params) external;

    function datanetCount() external view returns (uint64);
    function contributionCount() external view returns (uint64);
    function getDatanet(uint64 datanetId) external view returns (Datanet memory);
    function getContribution(uint64 contributionId) external view returns (Contribution memory);
    function getVersion(uint64 datanetId, uint32 version) external view returns (Version memory);
    /// Contribution ids in a version, in acceptance order, from `offset`, at most `limit`.
    function versionContributions(uint64 datanetId, uint32 version, uint64 offset, uint64 limit)
        external
        view
        returns (uint64[] memory);
    function isCurator(uint64 datanetId, address account) external view returns (bool);
    function isAllowed(uint64 datanetId, address account) external view returns (bool);
    /// The deposit charged for a contribution of `size` bytes.
    function depositFor(uint64 size) external view returns (uint256);
    function params() external view returns (Params memory);
    /// `account`'s penalty score in `datanetId` and whether its rewards there are cut.
    function penaltyOf(uint64 datanetId, address account) external view returns (Penalty memory);
    /// The datanets in which `account` has a penalty record, in the order it got one.
    function penalizedDatanets(address account) external view returns (uint64[] memory);
    /// The earlier contribution `contributionId` was proven to nearly duplicate, or 0.
    function provenNearDuplicateOf(uint64 contributionId) external view returns (uint64);
    function poisoningReportCount() external view returns (uint64);
    function getPoisoningReport(uint64 reportId) external view returns (PoisoningReport memory);
}
