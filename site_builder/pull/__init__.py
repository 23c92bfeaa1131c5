"""The pull stage: brings GPU prices and VPN measurements into the store."""
