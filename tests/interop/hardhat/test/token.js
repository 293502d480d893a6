// An OpenZeppelin ERC-20 on the node: deploy, transfers, events with their
// arguments, reverts with OZ's custom errors and with a reason string, logs
// by filter, balances at past blocks, and an EIP-2612 permit signed with
// eth_signTypedData_v4 by the node's dev account.
const { expect } = require("chai");
const { ethers } = require("hardhat");

describe("ERC-20 (OpenZeppelin) on the node", function () {
  const SUPPLY = ethers.parseEther("1000000");
  let token, owner, alice, bob;

  before(async function () {
    [owner, alice, bob] = await ethers.getSigners();
    token = await ethers.deployContract("Token", [SUPPLY]);
    await token.waitForDeployment();
  });

  it("lists the node's dev accounts as signers", async function () {
    const signers = await ethers.getSigners();
    expect(signers).to.have.length(10);
    expect(owner.address).to.equal("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect((await ethers.provider.getNetwork()).chainId).to.equal(1337n);
  });

  it("deploys with the whole supply minted to the deployer", async function () {
    expect(await ethers.provider.getCode(await token.getAddress())).to.not.equal("0x");
    expect(await token.name()).to.equal("Interop Token");
    expect(await token.symbol()).to.equal("ITK");
    expect(await token.decimals()).to.equal(18n);
    expect(await token.totalSupply()).to.equal(SUPPLY);
    expect(await token.balanceOf(owner.address)).to.equal(SUPPLY);
    const receipt = await token.deploymentTransaction().wait();
    expect(receipt.status).to.equal(1);
    expect(receipt.contractAddress).to.equal(await token.getAddress());
  });

  it("transfers and emits Transfer with its arguments", async function () {
    const amount = ethers.parseEther("100");
    await expect(token.transfer(alice.address, amount))
      .to.emit(token, "Transfer")
      .withArgs(owner.address, alice.address, amount);
    expect(await token.balanceOf(alice.address)).to.equal(amount);
  });

  it("changes balances as seen at the block before and the block of the transfer", async function () {
    const amount = ethers.parseEther("7");
    await expect(token.connect(alice).transfer(bob.address, amount)).to.changeTokenBalances(
      token,
      [alice, bob],
      [-amount, amount],
    );
  });

  it("approves and transfers from, with Approval and Transfer events", async function () {
    const amount = ethers.parseEther("5");
    await expect(token.approve(alice.address, amount))
      .to.emit(token, "Approval")
      .withArgs(owner.address, alice.address, amount);
    await expect(token.connect(alice).transferFrom(owner.address, bob.address, amount))
      .to.emit(token, "Transfer")
      .withArgs(owner.address, bob.address, amount);
    expect(await token.allowance(owner.address, alice.address)).to.equal(0n);
  });

  it("emits a custom event with an indexed address and a string", async function () {
    await expect(token.transferWithMemo(bob.address, 1n, "for lunch"))
      .to.emit(token, "Memo")
      .withArgs(owner.address, bob.address, 1n, "for lunch");
  });

  it("reverts a transfer over the balance with ERC20InsufficientBalance (decoded)", async function () {
    const balance = await token.balanceOf(bob.address);
    await expect(token.connect(bob).transfer(alice.address, balance + 1n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientBalance")
      .withArgs(bob.address, balance, balance + 1n);
  });

  it("reverts a transferFrom over the allowance with ERC20InsufficientAllowance", async function () {
    await expect(token.connect(bob).transferFrom(owner.address, bob.address, 1n))
      .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
      .withArgs(bob.address, 0n, 1n);
  });

  it("reverts a call with a reason string (eth_call and a transaction)", async function () {
    await expect(token.transferWithMemo.staticCall(bob.address, 1n, "")).to.be.revertedWith(
      "Token: memo is empty",
    );
    await expect(token.transferWithMemo(bob.address, 1n, "")).to.be.revertedWith("Token: memo is empty");
  });

  it("mines a transaction that reverts when its gas is given (receipt status 0)", async function () {
    const before = await token.balanceOf(owner.address);
    const tx = await token.connect(bob).transfer(alice.address, SUPPLY, { gasLimit: 100_000 });
    await expect(tx).to.be.reverted;
    const receipt = await ethers.provider.getTransactionReceipt(tx.hash);
    expect(receipt.status).to.equal(0);
    expect(receipt.logs).to.have.length(0);
    expect(await token.balanceOf(owner.address)).to.equal(before);
  });

  it("finds past Transfer logs by indexed topic (eth_getLogs)", async function () {
    const toBob = await token.queryFilter(token.filters.Transfer(null, bob.address));
    expect(toBob.map((e) => e.args.value)).to.deep.equal([ethers.parseEther("7"), ethers.parseEther("5"), 1n]);
    const fromAlice = await token.queryFilter(token.filters.Transfer(alice.address));
    expect(fromAlice).to.have.length(1);
    expect(fromAlice[0].args.to).to.equal(bob.address);
  });
});
