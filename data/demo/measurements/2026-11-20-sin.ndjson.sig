{"version": 1, "probe": "sin", "algorithm": "hmac-sha256", "signature": "6657f707d8e3b2cfac350bbb70180e5642852bddf06307ccbe1572318c74466f"}
