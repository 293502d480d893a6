// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// Block and transaction environment for the differential EVM test
/// (evm_diff.py). The values differ between chains by nature (timestamps,
/// base fees, producers); the test compares what is comparable and checks the
/// rest against each chain's own block header.
contract DiffEnv {
    event Environment(
        uint256 chainId,
        uint256 number,
        uint256 timestamp,
        uint256 baseFee,
        uint256 gasLimit,
        address coinbase,
        uint256 gasPrice,
        address origin,
        uint256 selfBalance,
        uint256 codeSize
    );

    function environment()
        public
        view
        returns (
            uint256 chainId,
            uint256 number,
            uint256 timestamp,
            uint256 baseFee,
            uint256 gasLimit,
            address coinbase,
            uint256 gasPrice,
            address origin,
            uint256 selfBalance,
            uint256 codeSize
        )
    {
        chainId = block.chainid;
        number = block.number;
        timestamp = block.timestamp;
        baseFee = block.basefee;
        gasLimit = block.gaslimit;
        coinbase = block.coinbase;
        gasPrice = tx.gasprice;
        origin = tx.origin;
        selfBalance = address(this).balance;
        assembly {
            codeSize := codesize()
        }
    }

    function record() external payable {
        (
            uint256 chainId,
            uint256 number,
            uint256 timestamp,
            uint256 baseFee,
            uint256 gasLimit,
            address coinbase,
            uint256 gasPrice,
            address origin,
            uint256 selfBalance,
            uint256 codeSize
        ) = environment();
        emit Environment(
            chainId, number, timestamp, baseFee, gasLimit, coinbase, gasPrice, origin, selfBalance, codeSize
        );
    }
}
