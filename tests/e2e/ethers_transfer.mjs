// ethers v6 as a wallet would use it: sign an EIP-1559 transfer, send it, wait for the receipt.
// Usage: node tests/e2e/ethers_transfer.mjs RPC_URL PRIVATE_KEY TO VALUE_WEI
// Prints one JSON line: {"hash", "status", "blockNumber", "gasUsed", "chainId", "balanceDelta"}.
import { JsonRpcProvider, Wallet } from "ethers";

const [url, key, to, value] = process.argv.slice(2);
// cacheTimeout -1: ethers otherwise answers a repeated call within 250 ms from its cache, and a block can
// be final sooner than that here.
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 100, cacheTimeout: -1 });
const wallet = new Wallet(key, provider);
const network = await provider.getNetwork();
const before = await provider.getBalance(to);
const tx = await wallet.sendTransaction({ to, value: BigInt(value) });
const receipt = await tx.wait(1, 30_000);
const after = await provider.getBalance(to);
console.log(JSON.stringify({
  hash: tx.hash,
  status: receipt.status,
  blockNumber: receipt.blockNumber,
  gasUsed: receipt.gasUsed.toString(),
  chainId: network.chainId.toString(),
  balanceDelta: (after - before).toString(),
}));
provider.destroy();
