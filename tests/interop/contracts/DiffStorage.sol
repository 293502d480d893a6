// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// Storage and memory for the differential EVM test (evm_diff.py): SSTORE
/// set / reset / clear in the patterns EIP-2200 and EIP-3529 price and refund
/// differently, TSTORE/TLOAD (EIP-1153) and MCOPY (EIP-5656).
contract DiffStorage {
    mapping(uint256 => uint256) public slots;

    /// One SSTORE: zero -> nonzero (set), nonzero -> nonzero (reset) or
    /// nonzero -> zero (clear, refunded), depending on what is there.
    function set(uint256 key, uint256 value) external {
        slots[key] = value;
    }

    /// `count` slots from `from` set to `value` (0 clears them all: the
    /// refund then hits the EIP-3529 cap of gas used / 5).
    function setRange(uint256 from, uint256 count, uint256 value) external {
        for (uint256 i = 0; i < count; i++) {
            slots[from + i] = value;
        }
    }

    /// 0 -> 7 -> 0 in one transaction: the clear refunds most of the set.
    function setThenClear(uint256 key) external {
        slots[key] = 7;
        slots[key] = 0;
    }

    /// x -> x+1 -> x in one transaction: back to the original value.
    function bumpThenRestore(uint256 key) external {
        uint256 original = slots[key];
        slots[key] = original + 1;
        slots[key] = original;
    }

    /// Writes transient slot 0 and reads it back through an external call
    /// (transient storage lives for the whole transaction).
    function transientRoundTrip(uint256 value) external returns (uint256) {
        assembly {
            tstore(0, value)
        }
        return this.readTransient();
    }

    /// Transient slot 0: zero in any new transaction.
    function readTransient() external view returns (uint256 value) {
        assembly {
            value := tload(0)
        }
    }

    /// Copies `data` with MCOPY, overlapping: shifted by `shift` bytes.
    function mcopyShift(bytes memory data, uint256 shift) external pure returns (bytes memory out) {
        out = new bytes(data.length + shift);
        assembly {
            let dst := add(out, 32)
            mcopy(dst, add(data, 32), mload(data))
            mcopy(add(dst, shift), dst, mload(data))
        }
    }
}
