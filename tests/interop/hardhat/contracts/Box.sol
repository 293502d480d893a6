// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// A value only its owner (the timelock) may set.
contract Box is Ownable {
    uint256 private value;

    event ValueChanged(uint256 value);

    constructor(address owner) Ownable(owner) {}

    function store(uint256 newValue) external onlyOwner {
        value = newValue;
        emit ValueChanged(newValue);
    }

    function retrieve() external view returns (uint256) {
        return value;
    }
}
