// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Datanets — community datasets with per-contribution ownership
/// @notice A native system contract at 0x0000000000000000000000000000000000001002.
/// Any Ethereum client calls it with an ordinary signed transaction; the
/// node's ledger executes it. Contribution bytes live in the node's
/// content-addressed blob store (`ol_putBlob` or `PUT /blobs/<sha256>`);
/// the chain keeps hashes, sizes, owners, licences and status.
/// Failures revert with `Error(string)` reasons that say what was wrong.
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
}
