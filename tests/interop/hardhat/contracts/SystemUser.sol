// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

// The system interfaces are the repository's own contracts/*.sol, reached
// through the contracts/system symlink (Hardhat 2 refuses imports from
// outside the project), so this compiles against exactly what the node
// implements.
import {IDatanets} from "./system/IDatanets.sol";
import {IModels} from "./system/IModels.sol";
import {IInference} from "./system/IInference.sol";
import {IStaking} from "./system/IStaking.sol";
import {IAgents} from "./system/IAgents.sol";
import {IGovernance} from "./system/IGovernance.sol";

/// The system contracts at their fixed addresses.
library System {
    IDatanets internal constant DATANETS = IDatanets(0x0000000000000000000000000000000000001002);
    IModels internal constant MODELS = IModels(0x0000000000000000000000000000000000001003);
    IInference internal constant INFERENCE = IInference(0x0000000000000000000000000000000000001004);
    IStaking internal constant STAKING = IStaking(0x0000000000000000000000000000000000001005);
    IAgents internal constant AGENTS = IAgents(0x0000000000000000000000000000000000001006);
    IGovernance internal constant GOVERNANCE = IGovernance(0x0000000000000000000000000000000000001007);
}

/// A contract that uses the system contracts as a Solidity developer
/// would: through their interfaces, with the contract itself as the caller
/// (it stakes and deposits its own OPEN).
contract SystemUser {
    /// This contract bonded `amount` to `validator`; `bonded` is its bond there afterwards.
    event StakeForwarded(address indexed validator, uint256 amount, uint256 bonded);
    /// A low-level call to a system contract returned.
    event RawCallResult(address indexed target, bool success, bytes returned);

    /// Every governable parameter set, read in one call.
    struct AllParams {
        IDatanets.Params datanets;
        IModels.Params models;
        IInference.Params inference;
        IStaking.Params staking;
        IAgents.Params agents;
        IGovernance.Params governance;
        uint256 deploymentFee;
        uint256 totalBonded;
        uint48 stakingClock;
        string clockMode;
    }

    receive() external payable {}

    /// Bonds the OPEN sent along to `validator` from this contract's balance.
    function stake(address validator) external payable returns (uint256 bonded) {
        System.STAKING.stake(validator, msg.value);
        bonded = System.STAKING.bonded(address(this), validator);
        emit StakeForwarded(validator, msg.value, bonded);
    }

    /// As `stake`, through the interface: Solidity checks EXTCODESIZE first,
    /// which the stub code genesis puts at the system addresses satisfies.
    function stakeThroughInterface(address validator) external payable {
        System.STAKING.stake(validator, msg.value);
    }

    /// Starts unbonding `amount` of this contract's bond to `validator`.
    function unstake(address validator, uint256 amount) external returns (uint64 completesAt) {
        return System.STAKING.unstake(validator, amount);
    }

    /// Withdraws this contract's matured unbonding entries at `validator`.
    function withdrawUnbonded(address validator) external returns (uint256 amount) {
        return System.STAKING.withdrawUnbonded(validator);
    }

    /// Stakes, then reverts: the stake, its log and the value must all go back.
    function stakeThenRevert(address validator) external payable {
        System.STAKING.stake(validator, msg.value);
        revert("SystemUser: undone after staking");
    }

    /// Reads the views of every system contract.
    function readAll() external view returns (AllParams memory all) {
        all.datanets = System.DATANETS.params();
        all.models = System.MODELS.params();
        all.inference = System.INFERENCE.params();
        all.staking = System.STAKING.params();
        all.agents = System.AGENTS.params();
        all.governance = System.GOVERNANCE.params();
        all.deploymentFee = System.MODELS.deploymentFee();
        all.totalBonded = System.STAKING.totalBonded();
        all.stakingClock = System.STAKING.clock();
        all.clockMode = System.GOVERNANCE.CLOCK_MODE();
    }

    /// Reads this contract's bond to `validator` through a view call.
    function bondedTo(address validator) external view returns (uint256) {
        return System.STAKING.bonded(address(this), validator);
    }

    /// Calls `target` with `data` and `value` at a low level and reports
    /// what came back instead of reverting.
    function rawCall(address target, bytes calldata data, uint256 value)
        external
        payable
        returns (bool success, bytes memory returned)
    {
        (success, returned) = target.call{value: value}(data);
        emit RawCallResult(target, success, returned);
    }

    /// STATICCALLs `target` with `data` (with all but 100,000 gas, so the
    /// caller can report a failure that takes everything it was given).
    function rawStaticCall(address target, bytes calldata data)
        external
        returns (bool success, bytes memory returned)
    {
        (success, returned) = target.staticcall{gas: gasleft() - 100_000}(data);
        emit RawCallResult(target, success, returned);
    }

    /// DELEGATECALLs `target` with `data` and reports what came back.
    function rawDelegateCall(address target, bytes calldata data)
        external
        returns (bool success, bytes memory returned)
    {
        (success, returned) = target.delegatecall(data);
        emit RawCallResult(target, success, returned);
    }

    /// Calls `target` with `data` and re-raises its revert data unchanged.
    function forward(address target, bytes calldata data) external returns (bytes memory) {
        (bool success, bytes memory returned) = target.call(data);
        if (!success) {
            assembly {
                revert(add(returned, 32), mload(returned))
            }
        }
        return returned;
    }
}
