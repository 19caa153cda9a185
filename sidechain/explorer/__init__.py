"""The block explorer every node serves at /explorer/ (sidechain/rpc/static.py): static files in
`static/`, shipped as package data, that read the chain only through the node's JSON-RPC."""
