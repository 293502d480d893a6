// An OpenZeppelin Governor + TimelockController + ERC20Votes on the node:
// delegate, propose a call that sets a value on a Box owned by the
// timelock, vote, queue, execute. ERC20Votes counts in block numbers (its
// default clock), so voting delay and period pass with hardhat_mine and
// evm_mine; the timelock's delay is in seconds and passes with
// evm_increaseTime.
const { expect } = require("chai");
const { ethers, network } = require("hardhat");

const ProposalState = { Pending: 0, Active: 1, Defeated: 3, Succeeded: 4, Queued: 5, Executed: 7 };
const VOTING_DELAY = 2; // blocks
const VOTING_PERIOD = 5; // blocks
const TIMELOCK_DELAY = 60; // seconds

async function mineBlocks(count) {
  await network.provider.send("hardhat_mine", [ethers.toQuantity(count)]);
}

describe("Governor + Timelock + ERC20Votes on the node", function () {
  const SUPPLY = ethers.parseEther("1000000");
  let token, timelock, governor, box, owner, voter, outsider;
  let targets, values, calldatas, description, descriptionHash, proposalId;

  before(async function () {
    [owner, voter, outsider] = await ethers.getSigners();
    token = await ethers.deployContract("GovToken", [SUPPLY]);
    timelock = await ethers.deployContract("TimelockController", [
      TIMELOCK_DELAY,
      [],
      [ethers.ZeroAddress], // anyone may execute a ready operation
      owner.address,
    ]);
    governor = await ethers.deployContract("InteropGovernor", [
      await token.getAddress(),
      await timelock.getAddress(),
      VOTING_DELAY,
      VOTING_PERIOD,
    ]);
    box = await ethers.deployContract("Box", [await timelock.getAddress()]);
    for (const c of [token, timelock, governor, box]) await c.waitForDeployment();

    const governorAddress = await governor.getAddress();
    await (await timelock.grantRole(await timelock.PROPOSER_ROLE(), governorAddress)).wait();
    await (await timelock.grantRole(await timelock.CANCELLER_ROLE(), governorAddress)).wait();
    await (await timelock.renounceRole(await timelock.DEFAULT_ADMIN_ROLE(), owner.address)).wait();

    await (await token.transfer(voter.address, ethers.parseEther("300000"))).wait();

    targets = [await box.getAddress()];
    values = [0n];
    calldatas = [box.interface.encodeFunctionData("store", [42n])];
    description = "Proposal #1: store 42 in the box";
    descriptionHash = ethers.id(description);
  });

  it("uses the block-number clock of ERC20Votes", async function () {
    expect(await governor.CLOCK_MODE()).to.equal("mode=blocknumber&from=default");
    // eth_call on "latest" runs at the head's block number, as on Hardhat
    // Network and anvil.
    const head = BigInt(await ethers.provider.getBlockNumber());
    expect(await governor.clock()).to.equal(head);
  });

  it("lets only the timelock set the box (OwnableUnauthorizedAccount)", async function () {
    expect(await box.owner()).to.equal(await timelock.getAddress());
    await expect(box.store(1n))
      .to.be.revertedWithCustomError(box, "OwnableUnauthorizedAccount")
      .withArgs(owner.address);
  });

  it("gives voting power only after delegation (DelegateChanged, DelegateVotesChanged)", async function () {
    expect(await token.getVotes(owner.address)).to.equal(0n);
    await expect(token.delegate(owner.address))
      .to.emit(token, "DelegateChanged")
      .withArgs(owner.address, ethers.ZeroAddress, owner.address)
      .and.to.emit(token, "DelegateVotesChanged")
      .withArgs(owner.address, 0n, ethers.parseEther("700000"));
    await (await token.connect(voter).delegate(voter.address)).wait();
    expect(await token.getVotes(owner.address)).to.equal(ethers.parseEther("700000"));
    expect(await token.getVotes(voter.address)).to.equal(ethers.parseEther("300000"));
  });

  it("proposes (ProposalCreated) and is Pending for the voting delay", async function () {
    proposalId = await governor.hashProposal(targets, values, calldatas, descriptionHash);
    await expect(governor.propose(targets, values, calldatas, description))
      .to.emit(governor, "ProposalCreated")
      .withArgs(proposalId, owner.address, targets, values, () => true, calldatas, () => true, () => true, description);
    expect(await governor.state(proposalId)).to.equal(ProposalState.Pending);
    await expect(governor.connect(voter).castVote(proposalId, 1))
      .to.be.revertedWithCustomError(governor, "GovernorUnexpectedProposalState");
  });

  it("becomes Active after hardhat_mine passes the voting delay", async function () {
    await mineBlocks(VOTING_DELAY + 1);
    expect(await governor.state(proposalId)).to.equal(ProposalState.Active);
  });

  it("counts votes (VoteCast) and refuses a second vote (GovernorAlreadyCastVote)", async function () {
    await expect(governor.castVote(proposalId, 1))
      .to.emit(governor, "VoteCast")
      .withArgs(owner.address, proposalId, 1, ethers.parseEther("700000"), "");
    await expect(governor.connect(voter).castVoteWithReason(proposalId, 0, "keep it empty"))
      .to.emit(governor, "VoteCast")
      .withArgs(voter.address, proposalId, 0, ethers.parseEther("300000"), "keep it empty");
    await expect(governor.castVote(proposalId, 1))
      .to.be.revertedWithCustomError(governor, "GovernorAlreadyCastVote")
      .withArgs(owner.address);
    const [against, forVotes, abstain] = await governor.proposalVotes(proposalId);
    expect([against, forVotes, abstain]).to.deep.equal([ethers.parseEther("300000"), ethers.parseEther("700000"), 0n]);
  });

  it("succeeds after evm_mine passes the voting period", async function () {
    const deadline = await governor.proposalDeadline(proposalId);
    while (BigInt(await ethers.provider.getBlockNumber()) <= deadline) {
      await network.provider.send("evm_mine", []);
    }
    expect(await governor.state(proposalId)).to.equal(ProposalState.Succeeded);
  });

  it("queues in the timelock (ProposalQueued) and refuses to execute early", async function () {
    await expect(governor.queue(targets, values, calldatas, descriptionHash)).to.emit(governor, "ProposalQueued");
    expect(await governor.state(proposalId)).to.equal(ProposalState.Queued);
    // The timelock's custom error comes up through the governor's call.
    await expect(governor.execute(targets, values, calldatas, descriptionHash)).to.be.revertedWithCustomError(
      timelock,
      "TimelockUnexpectedOperationState",
    );
  });

  it("executes after evm_increaseTime passes the timelock delay, and the box holds 42", async function () {
    await network.provider.send("evm_increaseTime", [TIMELOCK_DELAY + 1]);
    await network.provider.send("evm_mine", []);
    await expect(governor.connect(outsider).execute(targets, values, calldatas, descriptionHash))
      .to.emit(governor, "ProposalExecuted")
      .withArgs(proposalId)
      .and.to.emit(box, "ValueChanged")
      .withArgs(42n);
    expect(await governor.state(proposalId)).to.equal(ProposalState.Executed);
    expect(await box.retrieve()).to.equal(42n);
  });
});

describe("ERC20Permit on the node (eth_signTypedData_v4)", function () {
  it("accepts a permit signed by a dev account", async function () {
    const [owner, spender] = await ethers.getSigners();
    const token = await ethers.deployContract("GovToken", [ethers.parseEther("10")]);
    const value = ethers.parseEther("3");
    const deadline = BigInt((await ethers.provider.getBlock("latest")).timestamp) + 3600n;
    const domain = {
      name: "Interop Votes",
      version: "1",
      chainId: 1337n,
      verifyingContract: await token.getAddress(),
    };
    const types = {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    };
    const message = { owner: owner.address, spender: spender.address, value, nonce: 0n, deadline };
    const { v, r, s } = ethers.Signature.from(await owner.signTypedData(domain, types, message));
    await expect(token.connect(spender).permit(owner.address, spender.address, value, deadline, v, r, s))
      .to.emit(token, "Approval")
      .withArgs(owner.address, spender.address, value);
    expect(await token.nonces(owner.address)).to.equal(1n);
    // The same signature again: the nonce moved, so it recovers another signer.
    await expect(
      token.connect(spender).permit(owner.address, spender.address, value, deadline, v, r, s),
    ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
  });
});
