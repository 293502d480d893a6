// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// A custom error with arguments.
error Unauthorized(address caller, uint256 code);

/// Failures for the differential EVM test (evm_diff.py): reverts with a
/// reason, custom errors, empty reverts, revert data of any size, panics
/// (division by zero, assert, overflow, array index), INVALID and gas burning
/// (for out-of-gas transactions).
contract DiffErrors {
    uint256 public sink;

    function revertReason() external pure {
        revert("reason: nope");
    }

    function requireAbove(uint256 x) external pure returns (uint256) {
        require(x > 10, "x too small");
        return x;
    }

    function customError() external view {
        revert Unauthorized(msg.sender, 42);
    }

    function emptyRevert() external pure {
        revert();
    }

    /// Reverts with `size` bytes of data (0xaa...).
    function revertBytes(uint256 size) external pure {
        assembly {
            let p := mload(0x40)
            for { let i := 0 } lt(i, size) { i := add(i, 32) } {
                mstore(add(p, i), 0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa)
            }
            revert(p, size)
        }
    }

    /// Writes storage, then reverts: the write is undone, the gas is not.
    function writeThenRevert(uint256 value) external {
        sink = value;
        revert("after write");
    }

    function divide(uint256 a, uint256 b) external pure returns (uint256) {
        return a / b;
    }

    function assertFalse() external pure {
        assert(false);
    }

    function overflow(uint256 a) external pure returns (uint256) {
        return a + type(uint256).max;
    }

    function index(uint256 i) external pure returns (uint256) {
        uint256[] memory values = new uint256[](2);
        return values[i];
    }

    function invalidOpcode() external pure {
        assembly {
            invalid()
        }
    }

    /// Hashes `rounds` times into storage: burns gas for out-of-gas tests.
    function burn(uint256 rounds) external {
        uint256 value = sink;
        for (uint256 i = 0; i < rounds; i++) {
            value = uint256(keccak256(abi.encode(value, i)));
        }
        sink = value;
    }
}
