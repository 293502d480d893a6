// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title Models — the registry of models trained from datanet versions
/// @notice A native system contract at 0x0000000000000000000000000000000000001003.
/// A model names its provenance (base model, the datanet versions it was
/// trained on, the training configuration and the weights, all by hash; the
/// weights are safetensors in the node's blob store), its prices in OPEN and
/// the providers allowed to serve it. Registering costs the governed
/// deployment fee, paid to the treasury. Failures revert with `Error(string)`.
interface IModels {
    /// What the weights are.
    enum Kind {
        /// A complete model.
        Full,
        /// A LoRA adapter over `baseModel`.
        Adapter
    }

    /// A published datanet version.
    struct DatanetVersion {
        uint64 datanetId;
        uint32 version;
    }

    /// What the owner declares when registering.
    struct ModelConfig {
        string name;
        /// sha256 of the base model's weights; zero for a model trained from scratch.
        bytes32 baseModel;
        /// The datanet versions it was trained on (at least one).
        DatanetVersion[] trainedOn;
        /// sha256 of the training configuration file.
        bytes32 trainingConfigHash;
        /// sha256 of the weights (safetensors) in the blob store.
        bytes32 weightsHash;
        Kind kind;
        /// Price in wei of OPEN per 1,000 input tokens.
        uint256 inputPricePer1k;
        /// Price in wei of OPEN per 1,000 output tokens.
        uint256 outputPricePer1k;
        /// Accounts allowed to serve it and settle its inferences.
        address[] providers;
    }

    /// A model as stored.
    struct Model {
        uint64 id;
        address owner;
        ModelConfig config;
        bool retired;
        uint64 registeredAtBlock;
    }

    /// Governable parameters.
    struct Params {
        /// OPEN (wei) paid to the treasury for registering a model.
        uint256 deploymentFee;
    }

    event ModelRegistered(uint64 indexed modelId, address indexed owner, bytes32 weightsHash, uint256 deploymentFee);
    event PricesUpdated(uint64 indexed modelId, uint256 inputPricePer1k, uint256 outputPricePer1k);
    event ProvidersUpdated(uint64 indexed modelId, address[] providers);
    event ModelRetired(uint64 indexed modelId);
    event ParamsChanged(Params params);

    /// Registers a model owned by the caller, charging `deploymentFee()`.
    function registerModel(ModelConfig calldata config) external returns (uint64 modelId);
    /// Changes the prices (owner only, not once retired).
    function setPrices(uint64 modelId, uint256 inputPricePer1k, uint256 outputPricePer1k) external;
    /// Replaces the allowed providers (owner only, not once retired).
    function setProviders(uint64 modelId, address[] calldata providers) external;
    /// Retires the model for good (owner only): it can no longer be served or settled.
    function retire(uint64 modelId) external;

    function modelCount() external view returns (uint64);
    function getModel(uint64 modelId) external view returns (Model memory);
    function isProvider(uint64 modelId, address account) external view returns (bool);
    /// The OPEN (wei) charged for registering a model.
    function deploymentFee() external view returns (uint256);
    function params() external view returns (Params memory);
    /// Replaces the parameters; only governance may.
    function setParams(Params calldata params) external;
}
