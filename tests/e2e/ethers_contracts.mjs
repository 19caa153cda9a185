// ethers v6 deploying and using contracts the way a dapp script does: ContractFactory, calls,
// transactions, events (a listener over WebSocket, i.e. eth_subscribe("logs"), and queryFilter over
// HTTP, i.e. eth_getLogs), and revert reasons and custom errors decoded from the ABI.
//
// Usage:
//   node tests/e2e/ethers_contracts.mjs erc20 HTTP_URL WS_URL ARTIFACTS_DIR DEPLOYER_KEY RECIPIENT_KEY
//   node tests/e2e/ethers_contracts.mjs reverts HTTP_URL WS_URL ARTIFACTS_DIR KEY
// Prints one JSON line (big numbers as decimal strings) for the Python test to assert on.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Contract, ContractFactory, JsonRpcProvider, WebSocketProvider, Wallet, parseUnits } from "ethers";

const DEADLINE_MS = 30_000;

function artifact(dir, name) {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8"));
}

function http(url) {
  // cacheTimeout -1: ethers otherwise answers a repeated call within 250 ms from its cache, and a block
  // can be final sooner than that here.
  return new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
}

// A WebSocket provider whose `subscribed` promise resolves with the id of its first eth_subscribe, so a
// transaction is sent only once the node has the subscription (ethers does not expose that moment).
function websocket(url) {
  const provider = new WebSocketProvider(url, undefined, { staticNetwork: true });
  const send = provider.send.bind(provider);
  provider.subscribed = new Promise((resolve, reject) => {
    provider.send = async (method, params) => {
      try {
        const result = await send(method, params);
        if (method === "eth_subscribe") resolve(result);
        return result;
      } catch (err) {
        if (method === "eth_subscribe") reject(err);
        throw err;
      }
    };
  });
  return provider;
}

function withDeadline(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${DEADLINE_MS} ms waiting for ${what}`)), DEADLINE_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// What a script sees of a failed call: ethers' error code, the decoded reason and the ABI-decoded revert;
// with `iface`, also the revert data parsed by hand (contract.estimateGas leaves custom errors undecoded).
async function failure(promise, iface = null) {
  try {
    await promise;
  } catch (err) {
    return {
      code: err.code,
      reason: err.reason ?? null,
      revert: err.revert ? { name: err.revert.name, signature: err.revert.signature, args: err.revert.args.map(String) } : null,
      data: err.data ?? null,
      parsed: iface && err.data ? (({ name, args }) => ({ name, args: args.map(String) }))(iface.parseError(err.data)) : null,
      message: err.shortMessage ?? err.message,
    };
  }
  throw new Error("expected the call to fail");
}

function plain(value) {
  return JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v));
}

async function erc20(httpUrl, wsUrl, dir, deployerKey, recipientKey) {
  const provider = http(httpUrl);
  const deployer = new Wallet(deployerKey, provider);
  const recipient = new Wallet(recipientKey, provider);
  const { abi, bytecode } = artifact(dir, "SideToken");
  const supply = parseUnits("1000000", 18);

  const factory = new ContractFactory(abi, bytecode, deployer);
  const token = await factory.deploy(supply);
  const deployTx = token.deploymentTransaction();
  await withDeadline(token.waitForDeployment(), "the SideToken deployment");
  const deployReceipt = await withDeadline(deployTx.wait(1), "the deployment receipt");
  const address = await token.getAddress();

  // A listener over WebSocket (eth_subscribe("logs") with the Transfer topic and both indexed addresses).
  const ws = websocket(wsUrl);
  const watched = new Contract(address, abi, ws);
  const heard = new Promise((resolve) => {
    // With a filter ethers passes the ContractEventPayload last (and alone, for a prepared topic filter).
    watched.on(watched.filters.Transfer(deployer.address, recipient.address), (...args) => {
      const { args: [from, to, value], log } = args[args.length - 1];
      resolve({ from, to, value, blockNumber: log.blockNumber, transactionHash: log.transactionHash });
    });
  });
  const subscription = await withDeadline(ws.subscribed, "eth_subscribe");

  const amount = parseUnits("1234.5", 18);
  const transferTx = await token.transfer(recipient.address, amount);
  const transferReceipt = await withDeadline(transferTx.wait(1), "the transfer receipt");
  const event = await withDeadline(heard, "the Transfer event over WebSocket");
  await watched.removeAllListeners();

  // queryFilter over HTTP: eth_getLogs with the Transfer topic, from the deployment block on.
  const minted = await token.queryFilter(token.filters.Transfer("0x" + "00".repeat(20), deployer.address), deployReceipt.blockNumber);
  const sent = await token.queryFilter(token.filters.Transfer(deployer.address), deployReceipt.blockNumber, "latest");

  // OpenZeppelin's custom error, decoded by ethers from the ABI.
  const overdraft = await failure(token.connect(recipient).transfer.staticCall(deployer.address, amount + 1n));

  const result = {
    address,
    contractAddress: deployReceipt.contractAddress,
    deployStatus: deployReceipt.status,
    deployer: deployer.address,
    deployNonce: deployTx.nonce,
    code: await provider.getCode(address),
    name: await token.name(),
    symbol: await token.symbol(),
    decimals: await token.decimals(),
    totalSupply: await token.totalSupply(),
    deployerBalance: await token.balanceOf(deployer.address),
    recipient: recipient.address,
    recipientBalance: await token.balanceOf(recipient.address),
    amount,
    transfer: { hash: transferTx.hash, status: transferReceipt.status, blockNumber: transferReceipt.blockNumber,
                logs: transferReceipt.logs.length },
    subscription,
    event,
    minted: minted.map((e) => ({ from: e.args.from, to: e.args.to, value: e.args.value, blockNumber: e.blockNumber })),
    sent: sent.map((e) => ({ to: e.args.to, value: e.args.value, transactionHash: e.transactionHash })),
    overdraft,
  };
  await ws.destroy();
  provider.destroy();
  return result;
}

async function reverts(httpUrl, wsUrl, dir, key) {
  const provider = http(httpUrl);
  const wallet = new Wallet(key, provider);
  const { abi, bytecode } = artifact(dir, "Vault");
  const vault = await new ContractFactory(abi, bytecode, wallet).deploy(100n);
  await withDeadline(vault.waitForDeployment(), "the Vault deployment");

  const ok = await (await vault.deposit(40n)).wait(1);
  const deposited = await vault.queryFilter(vault.filters.Deposited(wallet.address), ok.blockNumber, ok.blockNumber);

  const reasonCall = await failure(vault.deposit.staticCall(0n));
  const customCall = await failure(vault.deposit.staticCall(61n));
  const reasonEstimate = await failure(vault.deposit.estimateGas(0n));
  const customEstimate = await failure(vault.deposit.estimateGas(61n), vault.interface);

  // An explicit gas limit skips estimation, so the failing transaction is mined, with status 0.
  const failing = await vault.deposit(61n, { gasLimit: 200_000n });
  const mined = await failure(withDeadline(failing.wait(1), "the failed transaction's receipt"));
  const receipt = await provider.getTransactionReceipt(failing.hash);

  const result = {
    address: await vault.getAddress(),
    depositStatus: ok.status,
    deposited: deposited.map((e) => ({ from: e.args.from, amount: e.args.amount, total: e.args.total })),
    total: await vault.total(),
    reasonCall,
    customCall,
    reasonEstimate,
    customEstimate,
    failed: { hash: failing.hash, code: mined.code, status: receipt.status, gasUsed: receipt.gasUsed,
              logs: receipt.logs.length, blockNumber: receipt.blockNumber },
  };
  provider.destroy();
  return result;
}

const [mode, ...args] = process.argv.slice(2);
const modes = { erc20, reverts };
if (!modes[mode]) {
  process.stderr.write("usage: ethers_contracts.mjs erc20|reverts HTTP_URL WS_URL ARTIFACTS_DIR KEY [KEY]\n");
  process.exit(2);
}
console.log(plain(await modes[mode](...args)));
