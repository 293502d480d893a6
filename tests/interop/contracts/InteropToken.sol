// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title InteropToken
/// @notice The contract that viem_contracts.mjs, web3py_contracts.py and
/// cast_contracts.py deploy on the endpoint under test: an OpenZeppelin ERC-20
/// plus one of each thing a client library must handle on a contract: a view
/// with arguments, a payable function, an event with indexed arguments, a
/// revert with a reason string and a revert with a custom error that carries
/// arguments.
contract InteropToken is ERC20 {
    /// @notice Raised by `guarded` when `amount` is above `limit`.
    error LimitExceeded(address caller, uint256 amount, uint256 limit);

    /// @notice One deposit of native currency by `from`, with a caller-chosen `tag`.
    event Deposited(address indexed from, uint256 indexed tag, uint256 amount, uint256 total);

    /// @notice The limit `guarded` enforces.
    uint256 public constant LIMIT = 1000;

    /// @notice Native currency deposited by each account.
    mapping(address => uint256) public deposits;

    /// @notice Mints `supply` (in the token's smallest unit) to the deployer.
    constructor(uint256 supply) ERC20("Interop Token", "IOP") {
        _mint(msg.sender, supply);
    }

    /// @notice Records a deposit of msg.value under `tag` and emits Deposited.
    function deposit(uint256 tag) external payable {
        require(msg.value > 0, "InteropToken: nothing deposited");
        deposits[msg.sender] += msg.value;
        emit Deposited(msg.sender, tag, msg.value, deposits[msg.sender]);
    }

    /// @notice A pure view with arguments: `a * b + deposits[who]`.
    function scaled(address who, uint256 a, uint256 b) external view returns (uint256) {
        return a * b + deposits[who];
    }

    /// @notice Always reverts with a reason string (Error(string)).
    function failWithReason() external pure {
        revert("InteropToken: reason string");
    }

    /// @notice Reverts with LimitExceeded(msg.sender, amount, LIMIT) when amount > LIMIT;
    /// otherwise returns amount.
    function guarded(uint256 amount) external view returns (uint256) {
        if (amount > LIMIT) revert LimitExceeded(msg.sender, amount, LIMIT);
        return amount;
    }
}
