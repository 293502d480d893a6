// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// The ERC-20 of bench/evm: OpenZeppelin's ERC20 unchanged, the whole supply
/// minted to `holder` at deployment (the bench then distributes it to its
/// senders with ordinary `transfer` transactions).
contract BenchToken is ERC20 {
    constructor(address holder, uint256 supply) ERC20("Bench Token", "BENCH") {
        _mint(holder, supply);
    }
}
