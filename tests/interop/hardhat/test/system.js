// Solidity contracts calling the system contracts (the native modules at
// 0x…1002 to 0x…1007, precompiles in the node's EVM) through the
// repository's own interfaces (contracts/system is a link to contracts/).
//
// What a Solidity developer relies on: the interfaces compile and match what
// the node dispatches; a contract reads views and writes as itself; the
// system contract's logs carry its address and the interface's topics, in
// the receipt, through eth_getLogs and through eth_subscribe; a failure inside the system contract
// reaches the caller as an `Error(string)` it can re-raise or inspect;
// value, STATICCALL writes, DELEGATECALL and malformed calldata are refused
// without changing anything; and a contract that tries to take OPEN out
// twice (again from a nested call of its own, or from `receive`) is paid
// once, with the system's books still adding up.
const { expect } = require("chai");
const { ethers, network, artifacts } = require("hardhat");

const SYSTEM = {
  IDatanets: "0x0000000000000000000000000000000000001002",
  IModels: "0x0000000000000000000000000000000000001003",
  IInference: "0x0000000000000000000000000000000000001004",
  IStaking: "0x0000000000000000000000000000000000001005",
  IAgents: "0x0000000000000000000000000000000000001006",
  IGovernance: "0x0000000000000000000000000000000000001007",
};
const STAKING = SYSTEM.IStaking;
const INFERENCE = SYSTEM.IInference;
const VALIDATOR = "0x7777777777777777777777777777777777777777";
const PROVIDER = "0x5555555555555555555555555555555555555555";
/// Generous, so that a low-level call is never starved by a tight estimate
/// (an estimate is the gas a call used, and a call forwards only 63/64 of it).
const GAS = 2_000_000;

const errorString = new ethers.Interface(["error Error(string)"]);

/// The reason of `Error(string)` revert data.
function reason(data) {
  return errorString.decodeErrorResult("Error", data)[0];
}

async function balance(address) {
  return ethers.provider.getBalance(address);
}

/// The logs of `receipt` emitted by `address`, parsed with `contract`'s interface.
function parsedLogs(receipt, contract, address) {
  return receipt.logs
    .filter((log) => log.address.toLowerCase() === address.toLowerCase())
    .map((log) => contract.interface.parseLog(log));
}

async function passSeconds(seconds) {
  await network.provider.send("evm_increaseTime", [seconds]);
  await network.provider.send("evm_mine", []);
}

describe("system contract interfaces", function () {
  it("compile from contracts/ and every function is one the node dispatches", async function () {
    for (const [name, address] of Object.entries(SYSTEM)) {
      const artifact = await artifacts.readArtifact(name);
      expect(artifact.sourceName).to.equal(`contracts/system/${name}.sol`);
      const iface = new ethers.Interface(artifact.abi);
      const functions = iface.fragments.filter((f) => f.type === "function");
      const events = iface.fragments.filter((f) => f.type === "event");
      expect(functions.length, `${name} functions`).to.be.greaterThan(5);
      expect(events.length, `${name} events`).to.be.greaterThan(1);
      for (const fn of functions) {
        // The selector alone: a known function with arguments says they are
        // malformed; without arguments it runs (or refuses for another reason).
        const result = await ethers.provider
          .call({ to: address, data: fn.selector })
          .then(() => null, (error) => error);
        const said = result === null ? "" : reason(result.data);
        expect(said, `${name}.${fn.format()}`).to.not.contain("has no function with selector");
        if (fn.inputs.length > 0) {
          expect(said, `${name}.${fn.format()}`).to.contain(`malformed arguments for ${name}`);
        }
      }
    }
  });

  it("decode every argument-free view the node answers directly", async function () {
    for (const [name, address] of Object.entries(SYSTEM)) {
      const contract = await ethers.getContractAt(name, address);
      const views = contract.interface.fragments.filter(
        (f) => f.type === "function" && f.stateMutability === "view" && f.inputs.length === 0,
      );
      expect(views.length, name).to.be.greaterThan(0);
      for (const view of views) {
        const data = await ethers.provider.call({ to: address, data: view.selector });
        // Strict decoding: the node's encoding has exactly the interface's shape.
        const decoded = contract.interface.decodeFunctionResult(view, data);
        expect(ethers.AbiCoder.defaultAbiCoder().encode(view.outputs, decoded), `${name}.${view.name}`).to.equal(data);
      }
    }
  });
});

describe("a Solidity contract calling the system contracts", function () {
  let user, userAddress, staking, owner;

  before(async function () {
    [owner] = await ethers.getSigners();
    user = await ethers.deployContract("SystemUser");
    await user.waitForDeployment();
    userAddress = await user.getAddress();
    staking = await ethers.getContractAt("IStaking", STAKING);
  });

  it("reads every system contract's parameters, as a direct call gives them", async function () {
    const all = await user.readAll();
    for (const [field, name] of [
      ["datanets", "IDatanets"],
      ["models", "IModels"],
      ["inference", "IInference"],
      ["staking", "IStaking"],
      ["agents", "IAgents"],
      ["governance", "IGovernance"],
    ]) {
      const direct = await (await ethers.getContractAt(name, SYSTEM[name])).params();
      expect(all[field].toArray(), field).to.deep.equal(direct.toArray());
    }
    const models = await ethers.getContractAt("IModels", SYSTEM.IModels);
    expect(all.deploymentFee).to.equal(await models.deploymentFee());
    expect(all.deploymentFee).to.equal(all.models.deploymentFee);
    expect(all.totalBonded).to.equal(await staking.totalBonded());
    expect(all.clockMode).to.equal("mode=timestamp");
    const head = await ethers.provider.getBlock("latest");
    expect(all.stakingClock).to.equal(BigInt(head.timestamp));
    expect(all.staking.unbondingSeconds).to.be.greaterThan(0n);
  });

  it("stakes the OPEN it received: the system's log in the receipt and through eth_getLogs", async function () {
    const amount = ethers.parseEther("1");
    const totalBefore = await staking.totalBonded();
    const heldBefore = await balance(STAKING);

    const tx = await user.stake(VALIDATOR, { value: amount });
    await expect(tx).to.emit(staking, "Staked").withArgs(userAddress, VALIDATOR, amount);
    await expect(tx).to.emit(user, "StakeForwarded").withArgs(VALIDATOR, amount, amount);
    const receipt = await tx.wait();

    const fromStaking = receipt.logs.filter((log) => log.address === STAKING);
    const staked = parsedLogs(receipt, staking, STAKING).find((log) => log.name === "Staked");
    expect(staked.topic).to.equal(staking.interface.getEvent("Staked").topicHash);
    expect(staked.args.toArray()).to.deep.equal([userAddress, VALIDATOR, amount]);
    // The voting units moved too: a DelegateVotesChanged for the staker.
    expect(parsedLogs(receipt, staking, STAKING).map((log) => log.name)).to.include("DelegateVotesChanged");

    const stakedTopic = staking.interface.getEvent("Staked").topicHash;
    const byStaker = await ethers.provider.getLogs({
      address: STAKING,
      topics: [stakedTopic, ethers.zeroPadValue(userAddress, 32)],
      fromBlock: receipt.blockNumber,
      toBlock: receipt.blockNumber,
    });
    expect(byStaker).to.have.length(1);
    const inReceipt = fromStaking.find((log) => log.topics[0] === stakedTopic);
    expect(byStaker[0].transactionHash).to.equal(receipt.hash);
    expect(byStaker[0].index).to.equal(inReceipt.index);
    expect(byStaker[0].data).to.equal(inReceipt.data);
    const byValidator = await ethers.provider.getLogs({
      address: STAKING,
      topics: [stakedTopic, null, ethers.zeroPadValue(VALIDATOR, 32)],
      fromBlock: receipt.blockNumber,
    });
    expect(byValidator.map((log) => log.transactionHash)).to.deep.equal([receipt.hash]);
    const elsewhere = await ethers.provider.getLogs({
      address: SYSTEM.IDatanets,
      topics: [stakedTopic],
      fromBlock: receipt.blockNumber,
    });
    expect(elsewhere).to.have.length(0);

    expect(await staking.bonded(userAddress, VALIDATOR)).to.equal(amount);
    expect(await user.bondedTo(VALIDATOR)).to.equal(amount);
    expect(await staking.totalBonded()).to.equal(totalBefore + amount);
    expect(await balance(STAKING)).to.equal(heldBefore + amount);
    expect(await balance(userAddress)).to.equal(0n);
  });

  it("delivers the system contract's logs to an eth_subscribe subscription over WebSocket", async function () {
    // The node's HTTP port takes WebSocket upgrades too.
    const ws = new ethers.WebSocketProvider(network.config.url.replace(/^http/, "ws"));
    try {
      const stakedTopic = staking.interface.getEvent("Staked").topicHash;
      const filter = { address: STAKING, topics: [stakedTopic, ethers.zeroPadValue(userAddress, 32)] };
      const delivered = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no log delivered within 20 s")), 20_000);
        ws.once(filter, (log) => {
          clearTimeout(timer);
          resolve(log);
        });
      });
      // Let the subscription reach the node before the transaction does.
      await new Promise((resolve) => setTimeout(resolve, 500));
      const amount = 12_345n;
      const receipt = await (await user.stake(VALIDATOR, { value: amount })).wait();
      const log = await delivered;
      // `once` has unsubscribed: ethers sends eth_unsubscribe without
      // awaiting it, and destroy() would cancel that request and surface it
      // as an uncaught error. Let it be answered first (a later request on
      // the same socket, then a moment).
      await new Promise((resolve) => setTimeout(resolve, 0));
      await ws.send("eth_blockNumber", []);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const inReceipt = receipt.logs.find((l) => l.address === STAKING && l.topics[0] === stakedTopic);
      expect(log.address).to.equal(STAKING);
      expect(log.transactionHash).to.equal(receipt.hash);
      expect(log.blockNumber).to.equal(receipt.blockNumber);
      expect(log.index).to.equal(inReceipt.index);
      expect([...log.topics]).to.deep.equal([...inReceipt.topics]);
      expect(staking.interface.parseLog(log).args.toArray()).to.deep.equal([userAddress, VALIDATOR, amount]);
    } finally {
      await ws.destroy();
    }
  });

  it("re-raises a revert inside the system contract with its reason", async function () {
    const bonded = await staking.bonded(userAddress, VALIDATOR);
    await expect(user.unstake(VALIDATOR, bonded + 1n)).to.be.revertedWith(
      `${userAddress} has ${bonded} wei bonded to ${VALIDATOR}; cannot unstake ${bonded + 1n} wei`,
    );
    await expect(user.stake(VALIDATOR, { value: 0 })).to.be.revertedWith(
      "the amount to stake must be more than zero",
    );
    await expect(user.stake(ethers.ZeroAddress, { value: 1 })).to.be.revertedWith(
      "cannot stake to the zero address",
    );
    expect(await staking.bonded(userAddress, VALIDATOR)).to.equal(bonded);
  });

  it("loses the stake, its log and the value when the calling contract reverts after it", async function () {
    const totalBefore = await staking.totalBonded();
    const heldBefore = await balance(STAKING);
    const bondedBefore = await staking.bonded(userAddress, VALIDATOR);
    const tx = await user.stakeThenRevert(VALIDATOR, { value: 1000, gasLimit: GAS });
    const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
    expect(receipt.status).to.equal(0);
    expect(receipt.logs).to.have.length(0);
    await expect(user.stakeThenRevert(VALIDATOR, { value: 1000 })).to.be.revertedWith(
      "SystemUser: undone after staking",
    );
    expect(await staking.totalBonded()).to.equal(totalBefore);
    expect(await balance(STAKING)).to.equal(heldBefore);
    expect(await staking.bonded(userAddress, VALIDATOR)).to.equal(bondedBefore);
    expect(await balance(userAddress)).to.equal(0n);
  });

  it("refuses value sent to a system contract, with a reason", async function () {
    const data = staking.interface.encodeFunctionData("totalBonded");
    const [success, returned] = await user.rawCall.staticCall(STAKING, data, 1, { value: 1 });
    expect(success).to.equal(false);
    expect(reason(returned)).to.equal(`system contract ${STAKING} is not payable; 1 wei sent`);

    const tx = await user.rawCall(STAKING, data, 1, { value: 1, gasLimit: GAS });
    await expect(tx).to.emit(user, "RawCallResult").withArgs(STAKING, false, returned);
    expect(await balance(userAddress)).to.equal(1n, "the wei stayed with the contract");

    // From an account, too: refused before anything runs.
    await expect(owner.sendTransaction({ to: STAKING, data, value: 1 })).to.be.rejectedWith("not payable");
  });

  it("fails a STATICCALL that would write, and answers a STATICCALL of a view", async function () {
    const totalBefore = await staking.totalBonded();
    const write = staking.interface.encodeFunctionData("stake", [VALIDATOR, 1]);
    const tx = await user.rawStaticCall(STAKING, write, { gasLimit: GAS });
    await expect(tx).to.emit(user, "RawCallResult").withArgs(STAKING, false, "0x");
    const receipt = await tx.wait();
    expect(receipt.logs.filter((log) => log.address === STAKING)).to.have.length(0);
    expect(await staking.totalBonded()).to.equal(totalBefore);
    expect(await balance(userAddress)).to.equal(1n);

    const read = staking.interface.encodeFunctionData("totalBonded");
    const [success, returned] = await user.rawStaticCall.staticCall(STAKING, read, { gasLimit: GAS });
    expect(success).to.equal(true);
    expect(BigInt(returned)).to.equal(totalBefore);
  });

  it("refuses a DELEGATECALL with a reason", async function () {
    const write = staking.interface.encodeFunctionData("stake", [VALIDATOR, 1]);
    const [success, returned] = await user.rawDelegateCall.staticCall(STAKING, write);
    expect(success).to.equal(false);
    expect(reason(returned)).to.equal(
      `system contract ${STAKING} cannot run as another contract's code (DELEGATECALL or CALLCODE); CALL it`,
    );
  });

  it("reverts malformed calldata with a reason the contract can read or re-raise", async function () {
    const stake = staking.interface.encodeFunctionData("stake", [VALIDATOR, 1]);
    const cases = [
      [STAKING, "0xdeadbeef", "IStaking has no function with selector 0xdeadbeef"],
      [SYSTEM.IDatanets, "0x", "call data of 0 bytes has no function selector"],
      [SYSTEM.IModels, "0x1234", "call data of 2 bytes has no function selector"],
    ];
    for (const [target, data, expected] of cases) {
      const [success, returned] = await user.rawCall.staticCall(target, data, 0);
      expect(success, data).to.equal(false);
      expect(reason(returned)).to.equal(expected);
      await expect(user.forward(target, data)).to.be.revertedWith(expected);
    }
    // Arguments cut short: the selector is known, the arguments are not whole.
    const [success, returned] = await user.rawCall.staticCall(STAKING, stake.slice(0, 2 + 2 * 14), 0);
    expect(success).to.equal(false);
    expect(reason(returned)).to.match(/^malformed arguments for IStaking: /);
    // Sent in a transaction, the caller goes on and nothing is bonded.
    const totalBefore = await staking.totalBonded();
    const tx = await user.rawCall(STAKING, "0xdeadbeef", 0, { gasLimit: GAS });
    await expect(tx).to.emit(user, "RawCallResult");
    expect(await staking.totalBonded()).to.equal(totalBefore);
  });

  it("unstakes, waits out the unbonding through evm_increaseTime and withdraws", async function () {
    const bonded = await staking.bonded(userAddress, VALIDATOR);
    const totalUnbonding = await staking.totalUnbonding();
    const tx = await user.unstake(VALIDATOR, bonded);
    const receipt = await tx.wait();
    const started = parsedLogs(receipt, staking, STAKING).find((log) => log.name === "UnbondingStarted");
    const block = await ethers.provider.getBlock(receipt.blockNumber);
    const { unbondingSeconds } = await staking.params();
    expect(started.args.toArray()).to.deep.equal([
      userAddress,
      VALIDATOR,
      bonded,
      BigInt(block.timestamp) + unbondingSeconds,
    ]);
    expect(await staking.unbondingOf(userAddress, VALIDATOR)).to.equal(bonded);
    expect(await staking.totalUnbonding()).to.equal(totalUnbonding + bonded);

    // The block time in the reason is the pending block's, which the node's clock sets.
    await expect(user.withdrawUnbonded(VALIDATOR)).to.be.revertedWith(
      new RegExp(
        `^nothing unbonded yet: the next unbonding entry of ${userAddress} at ${VALIDATOR} ` +
          `completes at ${started.args.completesAt} \\(block time is \\d+\\)$`,
      ),
    );

    await passSeconds(Number(unbondingSeconds) + 1);
    const before = await balance(userAddress);
    const withdraw = await user.withdrawUnbonded(VALIDATOR);
    await expect(withdraw).to.emit(staking, "Withdrawn").withArgs(userAddress, VALIDATOR, bonded);
    expect(await balance(userAddress)).to.equal(before + bonded);
    expect(await staking.unbondingOf(userAddress, VALIDATOR)).to.equal(0n);
    expect(await staking.totalUnbonding()).to.equal(totalUnbonding);
  });
});

describe("re-entering a system contract from a user contract", function () {
  let attacker, attackerAddress, staking, inference;

  before(async function () {
    attacker = await ethers.deployContract("Reentrant");
    await attacker.waitForDeployment();
    attackerAddress = await attacker.getAddress();
    staking = await ethers.getContractAt("IStaking", STAKING);
    inference = await ethers.getContractAt("IInference", INFERENCE);
  });

  /// The `Attempt` events of `receipt`, as [what, success, returned].
  function attempts(receipt) {
    return receipt.logs
      .filter((log) => log.address === attackerAddress)
      .map((log) => attacker.interface.parseLog(log))
      .filter((log) => log.name === "Attempt")
      .map((log) => log.args.toArray());
  }

  it("takes a deposit back once, however often it asks in one transaction", async function () {
    const amount = ethers.parseEther("2");
    await expect(attacker.deposit(PROVIDER, { value: amount }))
      .to.emit(inference, "Deposited")
      .withArgs(attackerAddress, PROVIDER, amount);
    expect(await inference.depositOf(attackerAddress, PROVIDER)).to.equal(amount);
    const pool = await balance(INFERENCE);

    const tx = await attacker.withdrawDepositTwice(PROVIDER, { gasLimit: GAS });
    const receipt = await tx.wait();
    expect(receipt.status).to.equal(1);
    const [first, second] = attempts(receipt);
    expect(first.slice(0, 2)).to.deep.equal(["withdrawDeposit", true]);
    expect(second.slice(0, 2)).to.deep.equal(["nested withdrawDeposit", false]);
    expect(reason(second[2])).to.equal(
      `the deposit of ${attackerAddress} for ${PROVIDER} is 0 wei; cannot withdraw ${amount} wei`,
    );
    const withdrawn = parsedLogs(receipt, inference, INFERENCE).filter((log) => log.name === "DepositWithdrawn");
    expect(withdrawn.map((log) => log.args.toArray())).to.deep.equal([[attackerAddress, PROVIDER, amount]]);

    expect(await balance(attackerAddress)).to.equal(amount, "paid once");
    expect(await balance(INFERENCE)).to.equal(pool - amount);
    expect(await inference.depositOf(attackerAddress, PROVIDER)).to.equal(0n);
    expect(await attacker.receiveCalls()).to.equal(0n, "a system payout runs no code");
  });

  it("withdraws matured unbonding once, with receive armed and a nested retry", async function () {
    const amount = ethers.parseEther("3");
    const totalBonded = await staking.totalBonded();
    const totalUnbonding = await staking.totalUnbonding();
    const held = await balance(STAKING);
    const attackerBefore = await balance(attackerAddress);
    await attacker.stakeAndUnstake(VALIDATOR, { value: amount });
    expect(await staking.totalUnbonding()).to.equal(totalUnbonding + amount);
    expect(await staking.totalBonded()).to.equal(totalBonded);
    expect(await balance(STAKING)).to.equal(held + amount);

    const { unbondingSeconds } = await staking.params();
    await passSeconds(Number(unbondingSeconds) + 1);
    const tx = await attacker.withdrawUnbondedTwice(VALIDATOR, { gasLimit: GAS });
    const receipt = await tx.wait();
    expect(receipt.status).to.equal(1);
    const [first, second, ...rest] = attempts(receipt);
    expect(first).to.deep.equal(["withdrawUnbonded", true, ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [amount])]);
    expect(second.slice(0, 2)).to.deep.equal(["nested withdrawUnbonded", false]);
    expect(reason(second[2])).to.equal(`${attackerAddress} has nothing unbonding at ${VALIDATOR}`);
    expect(rest, "receive never ran, so it never re-entered").to.have.length(0);
    const withdrawn = parsedLogs(receipt, staking, STAKING).filter((log) => log.name === "Withdrawn");
    expect(withdrawn.map((log) => log.args.toArray())).to.deep.equal([[attackerAddress, VALIDATOR, amount]]);

    expect(await balance(attackerAddress)).to.equal(attackerBefore + amount, "paid once");
    expect(await balance(STAKING)).to.equal(held);
    expect(await staking.totalUnbonding()).to.equal(totalUnbonding);
    expect(await staking.totalBonded()).to.equal(totalBonded);
    expect(await staking.unbondingOf(attackerAddress, VALIDATOR)).to.equal(0n);
    expect(await attacker.receiveCalls()).to.equal(0n);
  });
});

describe("staking rewards switched on by a system governance proposal", function () {
  const GOVERNANCE = SYSTEM.IGovernance;
  let owner, governance, staking, attacker, attackerAddress, original;

  before(async function () {
    [owner] = await ethers.getSigners();
    governance = await ethers.getContractAt("IGovernance", GOVERNANCE);
    staking = await ethers.getContractAt("IStaking", STAKING);
    attacker = await ethers.deployContract("Reentrant");
    await attacker.waitForDeployment();
    attackerAddress = await attacker.getAddress();
    original = await staking.params();
  });

  /// Takes `actions` through propose, vote, queue and execute with the
  /// owner's stake as the votes; returns the execution's receipt.
  async function enact(actions, description) {
    const params = await governance.params();
    const proposed = await (await governance.propose(actions, description)).wait();
    const created = parsedLogs(proposed, governance, GOVERNANCE).find((log) => log.name === "ProposalCreated");
    const id = created.args.proposalId;
    expect(created.args.proposer).to.equal(owner.address);
    expect(created.args.actions.map((action) => [action.target, action.data])).to.deep.equal(
      actions.map((action) => [action.target, action.data]),
    );
    expect(await governance.state(id)).to.equal(0n); // Pending

    await passSeconds(Number(params.votingDelay) + 1);
    expect(await governance.state(id)).to.equal(1n); // Active
    const votes = await staking.getVotes(owner.address);
    await expect(governance.castVote(id, 1))
      .to.emit(governance, "VoteCast")
      .withArgs(owner.address, id, 1, votes, "");

    await passSeconds(Number(params.votingPeriod) + 1);
    expect(await governance.state(id)).to.equal(4n); // Succeeded
    await expect(governance.queue(id)).to.emit(governance, "ProposalQueued");
    await passSeconds(Number(params.timelockDelay) + 1);
    const executed = await (await governance.execute(id)).wait();
    expect(await governance.state(id)).to.equal(7n); // Executed
    expect(parsedLogs(executed, governance, GOVERNANCE).map((log) => log.name)).to.deep.equal(["ProposalExecuted"]);
    return executed;
  }

  function setStakingParams(baseFeeStakersBps) {
    const data = staking.interface.encodeFunctionData("setParams", [
      { ...original.toObject(), baseFeeStakersBps },
    ]);
    return [{ target: STAKING, data }];
  }

  /// Every (staker, validator) that ever bonded, from the Staked logs.
  async function positions() {
    const logs = await ethers.provider.getLogs({
      address: STAKING,
      topics: [staking.interface.getEvent("Staked").topicHash],
      fromBlock: 0,
    });
    const seen = new Map();
    for (const log of logs) {
      const { staker, validator } = staking.interface.parseLog(log).args;
      seen.set(`${staker}/${validator}`, [staker, validator]);
    }
    return [...seen.values()];
  }

  it("refuses the staking parameters from anyone but governance, a contract included", async function () {
    const [action] = setStakingParams(10_000);
    const user = await ethers.deployContract("SystemUser");
    await user.waitForDeployment();
    for (const caller of [owner.address, await user.getAddress()]) {
      const expected = new RegExp(`may only be called by governance \\(${GOVERNANCE}\\), not by ${caller}$`);
      if (caller === owner.address) {
        await expect(owner.sendTransaction({ to: STAKING, data: action.data })).to.be.revertedWith(expected);
      } else {
        await expect(user.forward(STAKING, action.data)).to.be.revertedWith(expected);
      }
    }
    expect((await staking.params()).toArray()).to.deep.equal(original.toArray());
  });

  it("gives the stakers every base fee after propose, vote, queue and execute", async function () {
    // Votes are bonded OPEN; the proposer needs 1 OPEN of them a second before proposing.
    await expect(staking.stake(owner.address, ethers.parseEther("2")))
      .to.emit(staking, "Staked")
      .withArgs(owner.address, owner.address, ethers.parseEther("2"));
    await passSeconds(2);
    const executed = await enact(setStakingParams(10_000), "Give the stakers every base fee");
    const changed = parsedLogs(executed, staking, STAKING);
    expect(changed.map((log) => [log.name, ...log.args.toArray()])).to.deep.equal([
      ["ParamsChanged", original.unbondingSeconds, original.slashReporterBps, 10_000n],
    ]);
    expect((await staking.params()).baseFeeStakersBps).to.equal(10_000n);
  });

  it("pays a contract its rewards once, with receive armed and a nested retry", async function () {
    await attacker.stake(VALIDATOR, { value: ethers.parseEther("1") });
    // A few blocks whose base fees go to the stakers.
    for (let i = 0; i < 3; i++) await owner.sendTransaction({ to: owner.address, value: 1 });
    expect(await staking.pendingRewards(attackerAddress, VALIDATOR)).to.be.greaterThan(0n);

    const before = await balance(attackerAddress);
    const tx = await attacker.claimRewardsTwice(VALIDATOR, { gasLimit: GAS });
    const receipt = await tx.wait();
    expect(receipt.status).to.equal(1);
    const claimed = parsedLogs(receipt, staking, STAKING).filter((log) => log.name === "RewardsClaimed");
    expect(claimed).to.have.length(1);
    const [staker, validator, amount] = claimed[0].args.toArray();
    expect([staker, validator]).to.deep.equal([attackerAddress, VALIDATOR]);
    expect(amount).to.be.greaterThan(0n);
    const attemptLogs = receipt.logs
      .filter((log) => log.address === attackerAddress)
      .map((log) => attacker.interface.parseLog(log).args.toArray());
    expect(attemptLogs).to.have.length(2, "receive never ran, so it never re-entered");
    expect(attemptLogs[0]).to.deep.equal(["claimRewards", true, ethers.AbiCoder.defaultAbiCoder().encode(["uint256"], [amount])]);
    expect(attemptLogs[1].slice(0, 2)).to.deep.equal(["nested claimRewards", false]);
    expect(reason(attemptLogs[1][2])).to.equal(
      `${attackerAddress} has no rewards to claim from its stake at ${VALIDATOR}`,
    );
    expect(await balance(attackerAddress)).to.equal(before + amount, "paid once");
    expect(await attacker.receiveCalls()).to.equal(0n);
  });

  it("keeps the pool's books: claimed + claimable + undistributed = distributed, to the wei", async function () {
    const pool = await staking.rewardPool();
    expect(pool.distributed).to.be.greaterThan(0n);
    expect(pool.claimed).to.be.greaterThan(0n);
    let claimable = 0n;
    for (const [staker, validator] of await positions()) {
      claimable += await staking.pendingRewards(staker, validator);
    }
    const undistributed = await staking.undistributed();
    expect(pool.claimed + claimable + undistributed).to.equal(pool.distributed);
    // Everything bonded, unbonding or not yet claimed is held by the staking contract.
    const held = await balance(STAKING);
    expect(held).to.equal(
      (await staking.totalBonded()) + (await staking.totalUnbonding()) + pool.distributed - pool.claimed,
    );
  });

  it("gives the base fees back to the treasury by another proposal", async function () {
    await enact(setStakingParams(original.baseFeeStakersBps), "Base fees back to the treasury");
    expect((await staking.params()).toArray()).to.deep.equal(original.toArray());
  });
});
