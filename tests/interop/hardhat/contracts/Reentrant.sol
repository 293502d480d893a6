// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

import {IInference} from "./system/IInference.sol";
import {IStaking} from "./system/IStaking.sol";

/// Tries to take OPEN out of a system contract twice: once directly, and
/// again re-entering from a nested call of its own and from `receive` (if
/// a payout ever ran its code). Every attempt is recorded, so a test can
/// check that exactly one payout happened and the books still balance.
contract Reentrant {
    IInference internal constant INFERENCE = IInference(0x0000000000000000000000000000000000001004);
    IStaking internal constant STAKING = IStaking(0x0000000000000000000000000000000000001005);

    /// One attempt at taking OPEN out: whether it succeeded and what came back.
    event Attempt(string what, bool success, bytes returned);

    /// How often `receive` ran (a system payout credits the balance without running code).
    uint256 public receiveCalls;
    /// The call `receive` makes to the staking contract while an attack runs; empty otherwise.
    bytes internal reentry;

    receive() external payable {
        receiveCalls += 1;
        if (reentry.length != 0) {
            (bool success, bytes memory returned) = address(STAKING).call(reentry);
            emit Attempt("receive", success, returned);
        }
    }

    /// Deposits `msg.value` into the inference contract for `provider`.
    function deposit(address provider) external payable {
        INFERENCE.deposit(provider, msg.value);
    }

    /// Withdraws the whole deposit for `provider`, then tries to withdraw it
    /// again from a nested call into itself.
    function withdrawDepositTwice(address provider) external {
        uint256 held = INFERENCE.depositOf(address(this), provider);
        INFERENCE.withdrawDeposit(provider, held);
        emit Attempt("withdrawDeposit", true, abi.encode(held));
        try this.withdrawDepositAgain(provider, held) {
            emit Attempt("nested withdrawDeposit", true, "");
        } catch (bytes memory returned) {
            emit Attempt("nested withdrawDeposit", false, returned);
        }
    }

    /// The nested half of `withdrawDepositTwice` (external, so it is a new call frame).
    function withdrawDepositAgain(address provider, uint256 amount) external {
        require(msg.sender == address(this), "Reentrant: only from itself");
        INFERENCE.withdrawDeposit(provider, amount);
    }

    /// Bonds `msg.value` to `validator` and starts unbonding all of it.
    function stakeAndUnstake(address validator) external payable {
        STAKING.stake(validator, msg.value);
        STAKING.unstake(validator, msg.value);
    }

    /// Withdraws the matured unbonding at `validator` with `receive` armed
    /// to re-enter, then tries again from a nested call into itself.
    function withdrawUnbondedTwice(address validator) external {
        reentry = abi.encodeCall(IStaking.withdrawUnbonded, (validator));
        uint256 amount = STAKING.withdrawUnbonded(validator);
        emit Attempt("withdrawUnbonded", true, abi.encode(amount));
        try this.withdrawUnbondedAgain(validator) returns (uint256 again) {
            emit Attempt("nested withdrawUnbonded", true, abi.encode(again));
        } catch (bytes memory returned) {
            emit Attempt("nested withdrawUnbonded", false, returned);
        }
        delete reentry;
    }

    /// The nested half of `withdrawUnbondedTwice`.
    function withdrawUnbondedAgain(address validator) external returns (uint256) {
        require(msg.sender == address(this), "Reentrant: only from itself");
        return STAKING.withdrawUnbonded(validator);
    }

    /// Bonds `msg.value` to `validator` (to earn the stakers' rewards).
    function stake(address validator) external payable {
        STAKING.stake(validator, msg.value);
    }

    /// Claims the rewards of its stake at `validator` with `receive` armed
    /// to claim again, then tries again from a nested call into itself.
    function claimRewardsTwice(address validator) external {
        reentry = abi.encodeCall(IStaking.claimRewards, (validator));
        uint256 amount = STAKING.claimRewards(validator);
        emit Attempt("claimRewards", true, abi.encode(amount));
        try this.claimRewardsAgain(validator) returns (uint256 again) {
            emit Attempt("nested claimRewards", true, abi.encode(again));
        } catch (bytes memory returned) {
            emit Attempt("nested claimRewards", false, returned);
        }
        delete reentry;
    }

    /// The nested half of `claimRewardsTwice`.
    function claimRewardsAgain(address validator) external returns (uint256) {
        require(msg.sender == address(this), "Reentrant: only from itself");
        return STAKING.claimRewards(validator);
    }
}
