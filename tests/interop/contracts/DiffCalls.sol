// SPDX-License-Identifier: MIT
pragma solidity ^0.8.26;

/// A contract created by [`DiffCalls`]; also the DELEGATECALL target (its
/// `value` is slot 0, as in `DiffCalls`).
contract DiffChild {
    uint256 public value;

    event Born(address self, uint256 value, uint256 balance);

    constructor(uint256 initial) payable {
        value = initial;
        emit Born(address(this), initial, address(this).balance);
    }

    function setValue(uint256 newValue) external {
        value = newValue;
    }

    function fail() external pure {
        revert("child failed");
    }

    /// SELFDESTRUCT: under Cancun (EIP-6780) only sends the balance, unless
    /// this contract was created in the same transaction.
    function destroy(address payable beneficiary) external {
        selfdestruct(beneficiary);
    }

    receive() external payable {}
}

/// Neither `receive` nor a payable function: plain value transfers to it fail.
contract DiffNonPayable {
    uint256 public pokes;

    function poke() external {
        pokes += 1;
    }
}

/// Nested calls for the differential EVM test (evm_diff.py): CALL,
/// STATICCALL, DELEGATECALL, CREATE and CREATE2 (and their failures), value
/// transfers, SELFDESTRUCT and return data sizes.
contract DiffCalls {
    uint256 public value;

    event Created(address child);
    event Outcome(bool ok, uint256 returnSize, bytes data);

    function create(uint256 initial) external payable returns (address child) {
        child = address(new DiffChild{value: msg.value}(initial));
        emit Created(child);
    }

    function create2(bytes32 salt, uint256 initial) external payable returns (address child) {
        child = address(new DiffChild{salt: salt, value: msg.value}(initial));
        emit Created(child);
    }

    /// CREATE2 through assembly, so a failure (address collision, code too
    /// large) gives address zero instead of a revert.
    function create2Raw(bytes32 salt, bytes memory initCode) public returns (address child) {
        assembly {
            child := create2(0, add(initCode, 32), mload(initCode), salt)
        }
        emit Created(child);
    }

    /// CREATE of init code that returns `size` zero bytes: over 24576
    /// (EIP-170) the creation fails and the address is zero.
    function createSized(uint256 size) external returns (address child) {
        bytes memory initCode = abi.encodePacked(hex"62", uint24(size), hex"6000f3");
        assembly {
            child := create(0, add(initCode, 32), mload(initCode))
        }
        emit Created(child);
    }

    /// CREATE of `size` zero bytes of init code: over 49152 (EIP-3860) the
    /// whole call halts.
    function createWithInitSize(uint256 size) external returns (address child) {
        assembly {
            child := create(0, mload(0x40), size)
        }
        emit Created(child);
    }

    /// CREATE of init code returning code that starts with 0xEF (EIP-3541).
    function createEfCode() external returns (address child) {
        bytes memory initCode = hex"60ef60005360016000f3";
        assembly {
            child := create(0, add(initCode, 32), mload(initCode))
        }
        emit Created(child);
    }

    function callSet(address child, uint256 newValue) external {
        DiffChild(payable(child)).setValue(newValue);
    }

    /// A failing sub-call whose revert is caught: outcome and return data.
    function callFailing(address child) external returns (bool ok, bytes memory data) {
        (ok, data) = child.call(abi.encodeCall(DiffChild.fail, ()));
        emit Outcome(ok, data.length, data);
    }

    /// A state write under STATICCALL: fails and eats the forwarded gas.
    function staticWrite(address child) external returns (bool ok) {
        (ok,) = child.staticcall(abi.encodeCall(DiffChild.setValue, (5)));
        emit Outcome(ok, 0, "");
    }

    function staticRead(address child) external view returns (uint256) {
        (bool ok, bytes memory data) = child.staticcall(abi.encodeWithSignature("value()"));
        require(ok, "static read failed");
        return abi.decode(data, (uint256));
    }

    /// DELEGATECALL: the child's code writes this contract's slot 0.
    function delegateSet(address child, uint256 newValue) external {
        (bool ok,) = child.delegatecall(abi.encodeCall(DiffChild.setValue, (newValue)));
        require(ok, "delegatecall failed");
    }

    /// Creates a child with value and destroys it in the same transaction
    /// (EIP-6780: the account is removed).
    function createAndDestroy(address payable beneficiary) external payable returns (address child) {
        DiffChild created = new DiffChild{value: msg.value}(1);
        created.destroy(beneficiary);
        child = address(created);
        emit Created(child);
    }

    /// Sends `amount` of this contract's balance to `to`; reports the outcome.
    function sendValue(address to, uint256 amount) external payable returns (bool ok) {
        bytes memory data;
        (ok, data) = to.call{value: amount}("");
        emit Outcome(ok, data.length, data);
    }

    /// Calls `target` with `data` and reports the outcome and RETURNDATASIZE.
    function probe(address target, bytes calldata data) external returns (bool ok, uint256 size, bytes memory out) {
        (ok, out) = target.call(data);
        assembly {
            size := returndatasize()
        }
        emit Outcome(ok, size, out);
    }

    /// RETURNDATACOPY past the end of the return data: halts.
    function returnDataOverrun(address target, bytes calldata data) external returns (bytes32 word) {
        (bool ok,) = target.call(data);
        ok;
        assembly {
            returndatacopy(0, 0, add(returndatasize(), 1))
            word := mload(0)
        }
    }

    /// Recursion through external calls `depth` levels deep.
    function recurse(uint256 depth) external returns (uint256) {
        if (depth == 0) {
            value += 1;
            return 0;
        }
        return this.recurse(depth - 1) + 1;
    }

    receive() external payable {}
}
