// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// Logs for the differential EVM test (evm_diff.py): LOG0..LOG4 from
/// assembly, Solidity events with indexed and dynamic arguments, and a log
/// inside a reverted sub-call (which must not appear in the receipt).
contract DiffEvents {
    event Plain(uint256 value);
    event Indexed(address indexed from, uint256 indexed id, bytes32 indexed tag, string note, uint256[] values);
    event Anonymous(uint256 indexed a, uint256 b) anonymous;

    /// One log of each arity, LOG0 to LOG4, each with `size` bytes of data.
    function allLogs(uint256 size) external {
        assembly {
            let p := mload(0x40)
            for { let i := 0 } lt(i, size) { i := add(i, 32) } { mstore(add(p, i), add(i, 0xabcdef)) }
            log0(p, size)
            log1(p, size, 0x01)
            log2(p, size, 0x01, 0x02)
            log3(p, size, 0x01, 0x02, 0x03)
            log4(p, size, 0x01, 0x02, 0x03, 0x04)
        }
    }

    /// Solidity events: plain, indexed with dynamic data, anonymous.
    function events(string calldata note, uint256[] calldata values) external {
        emit Plain(values.length);
        emit Indexed(msg.sender, 7, keccak256(bytes(note)), note, values);
        emit Anonymous(1, 2);
    }

    /// Logs, then a sub-call that logs and reverts (caught): only the outer
    /// logs stay.
    function logsAroundRevert() external {
        emit Plain(1);
        try this.logAndRevert() {} catch {}
        emit Plain(3);
    }

    /// Logs and reverts.
    function logAndRevert() external {
        emit Plain(2);
        revert("undone");
    }
}
