// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// Compiled as is so that its artifact (TimelockController) can be deployed.
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
