"""An Ethereum sidechain with proof-of-authority BFT consensus, bridged to Ethereum."""

__version__ = "0.1.0"
CLIENT_NAME = f"sidechain/v{__version__}/python"
