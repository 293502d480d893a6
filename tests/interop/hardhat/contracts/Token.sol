// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// An OpenZeppelin ERC-20 with the whole supply minted to the deployer, and
/// one function that guards with a plain `require` and a reason string.
contract Token is ERC20 {
    event Memo(address indexed from, address indexed to, uint256 amount, string memo);

    constructor(uint256 supply) ERC20("Interop Token", "ITK") {
        _mint(msg.sender, supply);
    }

    function transferWithMemo(address to, uint256 amount, string calldata memo) external returns (bool) {
        require(bytes(memo).length > 0, "Token: memo is empty");
        _transfer(msg.sender, to, amount);
        emit Memo(msg.sender, to, amount, memo);
        return true;
    }
}
