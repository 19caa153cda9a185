// ABIs the explorer decodes besides the node's system contracts (sidechain_getSystemContracts):
// ERC-20, ERC-721 and the L1 contracts of the bridge (bridge/contracts/*.sol).

const fn = (name, inputs, stateMutability = "nonpayable") => ({ type: "function", name, stateMutability, inputs, outputs: [] });
const ev = (name, inputs) => ({ type: "event", name, anonymous: false, inputs });
const p = (name, type, indexed = false) => ({ name, type, indexed });

export const ERC20 = [
  fn("transfer", [p("to", "address"), p("value", "uint256")]),
  fn("approve", [p("spender", "address"), p("value", "uint256")]),
  fn("transferFrom", [p("from", "address"), p("to", "address"), p("value", "uint256")]),
  ev("Transfer", [p("from", "address", true), p("to", "address", true), p("value", "uint256")]),
  ev("Approval", [p("owner", "address", true), p("spender", "address", true), p("value", "uint256")]),
];

export const ERC721 = [
  fn("safeTransferFrom", [p("from", "address"), p("to", "address"), p("tokenId", "uint256")]),
  fn("setApprovalForAll", [p("operator", "address"), p("approved", "bool")]),
  ev("Transfer", [p("from", "address", true), p("to", "address", true), p("tokenId", "uint256", true)]),
  ev("Approval", [p("owner", "address", true), p("approved", "address", true), p("tokenId", "uint256", true)]),
  ev("ApprovalForAll", [p("owner", "address", true), p("operator", "address", true), p("approved", "bool")]),
];

export const ROOT_BRIDGE = [
  fn("depositETH", [p("to", "address")], "payable"),
  fn("depositERC20", [p("token", "address"), p("amount", "uint256"), p("to", "address")]),
  ev("Deposited", [p("depositId", "uint64", true), p("token", "address", true), p("sender", "address", true), p("recipient", "address"), p("amount", "uint256")]),
  ev("Exited", [p("withdrawalId", "uint64", true), p("token", "address", true), p("recipient", "address", true), p("amount", "uint256")]),
  ev("ExitCredited", [p("withdrawalId", "uint64", true), p("token", "address", true), p("recipient", "address", true), p("amount", "uint256")]),
];

export const CHECKPOINT_MANAGER = [
  ev("CheckpointSubmitted", [p("number", "uint64", true), p("startBlock", "uint64"), p("endBlock", "uint64"), p("blockRoot", "bytes32"), p("withdrawalRoot", "bytes32")]),
];

export const KNOWN_ABIS = { erc20: ERC20, erc721: ERC721 };

export const SIG = {
  checkpointSubmitted: "CheckpointSubmitted(uint64,uint64,uint64,bytes32,bytes32)",
  deposited: "Deposited(uint64,address,address,address,uint256)",
  exited: "Exited(uint64,address,address,uint256)",
  exitCredited: "ExitCredited(uint64,address,address,uint256)",
  isExited: "isExited(uint64)",
  nextDepositId: "nextDepositId()",
  lastCheckpoint: "lastCheckpoint()",
  lockedBalance: "lockedBalance(address)",
  totalClaimable: "totalClaimable(address)",
  balanceOf: "balanceOf(address)",
};
